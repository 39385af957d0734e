# Build the Windows installer: the PyInstaller bundle, then Inno Setup.
#   powershell -ExecutionPolicy Bypass -File packaging\windows\build-installer.ps1 [-NoBuild] [-Smoke]
# Writes dist\sesame-desktop-<version>-windows-x64-setup.exe. Needs Python with the project
# installed (pip install -e ".[package]") and Inno Setup 6 (installed with Chocolatey if
# ISCC.exe is not found). -Smoke installs the result silently for this user, runs the
# installed app's --smoke mode and uninstalls it again.
param([switch]$NoBuild, [switch]$Smoke)
$ErrorActionPreference = "Stop"
$root = Resolve-Path (Join-Path $PSScriptRoot "..\..")
Set-Location $root
$python = if ($env:PYTHON) { $env:PYTHON } else { "python" }

$version = & $python -c "from importlib.metadata import version; print(version('sesame-desktop'))"
if ($LASTEXITCODE -ne 0) { throw "sesame-desktop is not installed in $python" }

if (-not $NoBuild) {
    & $python packaging\build.py
    if ($LASTEXITCODE -ne 0) { throw "the PyInstaller build failed" }
}
if (-not (Test-Path "dist\sesame-desktop\sesame-desktop.exe")) { throw "dist\sesame-desktop\sesame-desktop.exe is missing" }

$iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $iscc) {
    $candidates = @("${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe", "$env:ProgramFiles\Inno Setup 6\ISCC.exe",
                    "$env:LOCALAPPDATA\Programs\Inno Setup 6\ISCC.exe")
    $iscc = $candidates | Where-Object { Test-Path $_ } | Select-Object -First 1
}
if (-not $iscc) {
    Write-Host "Inno Setup not found: installing it with Chocolatey"
    choco install innosetup -y --no-progress
    if ($LASTEXITCODE -ne 0) { throw "could not install Inno Setup" }
    $iscc = "${env:ProgramFiles(x86)}\Inno Setup 6\ISCC.exe"
}

# Inno Setup wants a numeric version for VersionInfoVersion: 1.2.3rc1 -> 1.2.3
$numeric = ([regex]::Matches($version, "\d+") | Select-Object -First 3 | ForEach-Object { $_.Value }) -join "."
& $iscc /Q "/DAppVersion=$numeric" "/DBundleDir=$root\dist\sesame-desktop" "/DOutputDir=$root\dist" `
    packaging\windows\sesame-desktop.iss
if ($LASTEXITCODE -ne 0) { throw "ISCC failed" }
$setup = "dist\sesame-desktop-$numeric-windows-x64-setup.exe"
Write-Host ("build-installer: {0} ({1:N1} MB)" -f $setup, ((Get-Item $setup).Length / 1MB))

if ($Smoke) {
    $dir = Join-Path $env:LOCALAPPDATA "Programs\Sesame Desktop"
    $p = Start-Process -FilePath $setup -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART" -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "the installer exited with $($p.ExitCode)" }
    $exe = Join-Path $dir "sesame-desktop.exe"
    if (-not (Test-Path $exe)) { throw "$exe was not installed" }
    $start = Join-Path $env:APPDATA "Microsoft\Windows\Start Menu\Programs\Sesame Desktop.lnk"
    if (-not (Test-Path $start)) { throw "no Start-menu entry at $start" }
    # A windowed app writes to stdout only when it is redirected. A crash would show a
    # message box and wait forever, hence the time limit.
    $out = Join-Path $env:TEMP "sesame-smoke.out.txt"
    $err = Join-Path $env:TEMP "sesame-smoke.err.txt"
    $p = Start-Process -FilePath $exe -ArgumentList "--smoke" -RedirectStandardOutput $out `
        -RedirectStandardError $err -PassThru
    $null = $p.Handle  # keep the handle, or ExitCode is lost once the process ends
    if (-not $p.WaitForExit(180000)) { $p.Kill(); Get-Content $out, $err; throw "the smoke run did not end within 3 minutes" }
    Get-Content $out
    $smokeCode = $p.ExitCode
    if ($smokeCode -ne 0) { Get-Content $err }
    $p = Start-Process -FilePath (Join-Path $dir "unins000.exe") -ArgumentList "/VERYSILENT", "/SUPPRESSMSGBOXES", "/NORESTART" -Wait -PassThru
    if ($p.ExitCode -ne 0) { throw "the uninstaller exited with $($p.ExitCode)" }
    if ($smokeCode -ne 0) { throw "the installed app's smoke test failed with exit status $smokeCode" }
    Write-Host "build-installer: the installed app passed its smoke test and was uninstalled"
}
