; Inno Setup script for Sesame Desktop: a per-user installer (no administrator rights).
; Built by packaging/windows/build-installer.ps1, which passes the version and the paths:
;   ISCC.exe /DAppVersion=0.1.0 /DBundleDir=..\..\dist\sesame-desktop /DOutputDir=..\..\dist sesame-desktop.iss
; Installs to %LOCALAPPDATA%\Programs\Sesame Desktop, adds a Start-menu entry (and, if
; chosen, a desktop icon), and registers an uninstaller under Settings > Apps.

#ifndef AppVersion
  #error Pass the version: ISCC /DAppVersion=x.y.z
#endif
#ifndef BundleDir
  #define BundleDir "..\..\dist\sesame-desktop"
#endif
#ifndef OutputDir
  #define OutputDir "..\..\dist"
#endif
#define AppName "Sesame Desktop"
#define AppExe "sesame-desktop.exe"

[Setup]
; The AppId identifies the app for upgrades and the uninstaller: never change it.
AppId={{5E5A3E0D-7C1B-4F3A-9B7E-2D6C5A1E8F40}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=Sesame Desktop developers
VersionInfoVersion={#AppVersion}
; Per-user: no UAC prompt, installs under the user's profile.
PrivilegesRequired=lowest
DefaultDirName={autopf}\{#AppName}
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
UninstallDisplayIcon={app}\{#AppExe}
UninstallDisplayName={#AppName}
SetupIconFile=..\..\resources\sesame-desktop.ico
OutputDir={#OutputDir}
OutputBaseFilename=sesame-desktop-{#AppVersion}-windows-x64-setup
Compression=lzma2/fast
SolidCompression=yes
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\{#AppName}"; Filename: "{app}\{#AppExe}"; Comment: "Run coding agents in cloud sandboxes"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#AppExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#AppExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent

[UninstallDelete]
; The app's own files only; the user's settings, workspaces and logs stay in
; %LOCALAPPDATA%\sesame-desktop.
Type: filesandordirs; Name: "{app}\_internal"
