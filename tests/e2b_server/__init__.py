"""A local E2B-compatible server, so the real, unmodified ``e2b`` SDK runs end to end on loopback.

It emulates E2B, not the app (it never imports ``sesame_desktop``): the control-plane REST API,
envd's Connect-RPC process and filesystem services and its HTTP ``/files`` and ``/health``, and
the edge proxy for previews. Every sandbox's commands are real processes, isolated with
bubblewrap (see :mod:`.sandboxes`).

Ports and URLs (one process):

- main port: control plane, envd (routed by the ``E2b-Sandbox-Id`` header, as E2B's proxy
  does) and the admin API under ``/_admin``. ``E2B_API_URL`` = ``E2B_SANDBOX_URL`` =
  ``http://127.0.0.1:<port>``.
- preview proxy port: ``domain`` = ``localhost:<proxy port>``, returned in create/connect
  answers, so ``sandbox.get_host(3000)`` = ``3000-<sandboxID>.localhost:<proxy port>``.
  **Scheme:** this host is plain HTTP. The app must build preview URLs as ``http://`` +
  ``get_host(port)`` when the sandbox domain is ``localhost``/``*.localhost``/a loopback
  address (with or without a port), and ``https://`` + ``get_host(port)`` otherwise (E2B's
  ``e2b.app``). Browsers resolve ``*.localhost`` to loopback themselves; Python's resolver
  here does not, so non-browser clients connect to ``127.0.0.1:<proxy port>`` with the name in
  the ``Host`` header.

Running it:

- pytest: the ``e2b_server`` fixture (:mod:`.pytest_plugin`): one server subprocess per
  session, reset before each test. ``e2b_env`` also sets the ``E2B_*`` variables.
- by hand: ``python -m tests.e2b_server --port P --api-key K`` prints a JSON line with the
  URLs, then serves until SIGINT/SIGTERM; ``--isolation none`` forces the fallback,
  ``--templates a,b`` sets the templates that exist.

What the SDK sees:

- Sandboxes: create (template, timeout, metadata, envVars, lifecycle ``autoPause`` /
  ``autoResume``), connect (resumes a paused sandbox; on a running one only ever extends the
  end time), list (newest first unless ``order=asc``; ``state``, ``metadata``, ``template``,
  ``startedAfter``/``startedBefore`` filters; ``limit``/``nextToken`` pagination with
  ``x-next-token``), get info (with ``lifecycle``), set timeout, kill (running or paused); a
  sandbox dies when its lifetime ends, or pauses with ``lifecycle={"on_timeout": "pause"}``.
  Wrong ``X-API-KEY`` → 401; unknown template → 404 ``template '<name>' not found``.
- Pause (:mod:`.freezer`): every process of the sandbox gets SIGSTOP, its clock stops, open
  streams and preview connections are cut; it lists as ``paused``; envd calls and previews
  get the proxy's 502 "not found" (``SandboxNotRunningException``) unless it has
  ``auto_resume``, which resumes it on that request with at least five minutes; set timeout
  answers 404; pause again 409 (the SDK's ``False``); ``connect()`` (or the older
  ``/resume``) continues every process where it stopped. ``mode="filesystem"`` (and
  ``on_resume="reboot"``) end the processes instead, keeping the files.
- Not emulated (:mod:`.unsupported`, listed by ``--help``): snapshots, fork, volumes,
  metrics, network rules, template builds, logs, secrets, MCP: ``501`` with E2B's error body.
- Processes: ``bash -l -c`` commands with streaming output, stdin, ``Connect-Timeout-Ms`` as
  the process lifetime (process group killed, ``deadline_exceeded``), exit codes and signal
  deaths as envd reports them (``exitCode -1``, ``status "signal: killed"``), list,
  reconnect after a disconnect, SIGKILL/SIGTERM to the whole process group, PTYs (input,
  resize). A sandbox killed mid-stream cuts the connection (no end-of-stream) and ``/health``
  then answers 502 ``The sandbox <id> was not found`` → ``SandboxNotRunningException``.
- Files: read/write (multipart, octet-stream, gzip both ways), list with depth, stat, mkdir,
  move, remove, ``WatchDir`` (inotify, recursive), owners and permissions. ``/home``,
  ``/tmp`` and ``/root`` are the sandbox's own; elsewhere the sandbox sees the host's root
  read-only, and the file API refuses changes there too.
- ``download_url``/``upload_url`` links (no sandbox header): routed to the sandbox whose
  access token matches the v1 signature (E2B routes them by host name).
- Users: ``user`` (uid 1000, home ``/home/user``, the default) and ``root``; see
  :mod:`.sandboxes` for how this works when the host has no ``user`` account. ``sudo`` is
  passwordless, the server's own (:mod:`.sudo`).
- Image: the host's root filesystem, read-only: E2B's base template's ``python``/``python3``,
  ``pip`` (installs into ``~/.local``), ``git``, ``node``/``npm``, ``curl`` come from the
  host's packages (``scripts/system-packages.txt``).
- Network (:mod:`.network`): a network namespace per sandbox, outbound through
  ``slirp4netns`` (the host's loopback is ``10.0.2.2`` inside; fixture ``e2b_host_alias``);
  ``--network host`` (or no slirp4netns) shares the host's network instead.

Test hooks (methods of the fixture's :class:`~.pytest_plugin.E2BServer`; over HTTP at
``/_admin`` for other clients):

======================================  ===================================================
``kill_sandbox(id)``                    kill from outside, as from the E2B dashboard
``expire_sandbox(id)``                  end its lifetime now (killed, or paused by lifecycle)
``sandbox_state(id)``                   ``running``, ``paused`` or ``killed``
``fail_next(n, status=503,              answer the next ``n`` control-plane calls with an
should_retry=None, retry_after=None)``  error (``Should-Retry``/``Retry-After`` if given)
``delay_next(n, seconds, target)``      delay the next ``n`` answers (``"api"``/``"envd"``)
``drop_streams(id|None,                 cut open process/watch streams now, or arm a cut
after_events=None, count=1)``           of the next ``count`` streams after N events
``set_templates([...])``                the templates that exist
``sandbox_ids()``, ``is_alive(id)``,    running sandboxes; every sandbox ever (with the
``sandboxes()``                         reason of death)
``host_root(id)``                       host folder backing the sandbox's ``/home/user``
``stats()``, ``reset()``                call counters; kill all and clear faults
======================================  ===================================================

Admin HTTP routes: ``POST /_admin/sandboxes/<id>/kill|expire``, ``POST /_admin/faults/fail``
``{n, status, should_retry, retry_after, message}``, ``POST /_admin/faults/delay``
``{n, seconds, target}``, ``POST /_admin/faults/drop`` ``{sandbox_id, after_events, count}``,
``POST /_admin/templates`` ``{templates}``, ``POST /_admin/reset``, ``GET /_admin/sandboxes``,
``GET /_admin/faults``, ``GET /_admin/info``.
"""
