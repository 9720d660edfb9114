; QuầyThu — Windows installer (Inno Setup 6). Built by installer\windows\build.ps1, which
; first builds the PyInstaller bundle (installer\quaythu.spec) into build\windows\dist\quaythu\.
; By hand: ISCC.exe /DAppVersion=0.1.0 /DBundleDir=C:\path\to\dist\quaythu quaythu.iss
;
; - per-machine install into Program Files (needs an administrator once);
; - Start-menu entries (the window, a console for the commands) and an uninstaller;
; - the user's data (%LOCALAPPDATA%\QuayThu: database, backups, logs) is never installed or
;   deleted by this script: uninstalling keeps it;
; - the 07:00 daily job is registered for the Windows user who started the installer (not the
;   elevated administrator), as an interactive-logon task, so it runs in that user's session
;   and reaches the same Credential Manager entries (the counter's signing key) as the window.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif
#ifndef BundleDir
  #define BundleDir "..\..\build\windows\dist\quaythu"
#endif
#define AppName "QuầyThu"
#define WindowExe "quaythu.exe"
#define ConsoleExe "quaythu-cli.exe"
#define DailyCommand "daily"
#define TaskFolder "\QuayThu\"
#define TaskName "Daily"

[Setup]
AppId={{6C0F4B7E-2D55-4C36-9A61-3E8B7D0A5F19}
AppName={#AppName}
AppVersion={#AppVersion}
AppVerName={#AppName} {#AppVersion}
AppPublisher=QuầyThu
DefaultDirName={autopf}\QuayThu
DefaultGroupName={#AppName}
DisableProgramGroupPage=yes
PrivilegesRequired=admin
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\build\windows
OutputBaseFilename=QuayThu-Setup-{#AppVersion}
SetupIconFile=..\icons\quaythu.ico
UninstallDisplayIcon={app}\{#WindowExe}
UninstallDisplayName={#AppName}
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
RestartApplications=no

[CustomMessages]
DailyJob=Chạy công việc hằng ngày lúc 07:00 (đồng bộ, Mẫu 01-XN, đối chiếu, sao lưu) dưới tài khoản Windows này
DailyJobFailed=Không đăng ký được công việc hằng ngày lúc 07:00 (mã %1). Có thể đăng ký lại sau bằng register-daily-task.ps1 trong thư mục cài đặt.
CommandLine={#AppName} — dòng lệnh

[Tasks]
Name: "dailyjob"; Description: "{cm:DailyJob}"
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#BundleDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "register-daily-task.ps1"; DestDir: "{app}"; Flags: ignoreversion

[Icons]
Name: "{group}\{#AppName}"; Filename: "{app}\{#WindowExe}"
Name: "{group}\{cm:CommandLine}"; Filename: "{cmd}"; Parameters: "/k ""{app}\{#ConsoleExe}"" --help"; WorkingDir: "{app}"
Name: "{group}\{cm:UninstallProgram,{#AppName}}"; Filename: "{uninstallexe}"
Name: "{autodesktop}\{#AppName}"; Filename: "{app}\{#WindowExe}"; Tasks: desktopicon

[Run]
Filename: "{app}\{#WindowExe}"; Description: "{cm:LaunchProgram,{#AppName}}"; Flags: nowait postinstall skipifsilent runasoriginaluser

[UninstallRun]
; The task is removed with the program; the data it wrote stays in the user's folders.
Filename: "{sys}\schtasks.exe"; Parameters: "/Delete /F /TN ""{#TaskFolder}{#TaskName}"""; Flags: runhidden; RunOnceId: "RemoveDailyTask"

[Code]
{ Register the daily task as the user who started Setup: ExecAsOriginalUser runs PowerShell
  without the administrator's elevation, so the task belongs to that user's account. }
procedure RegisterDailyTask();
var
  ResultCode: Integer;
  Params: String;
begin
  Params := '-NoProfile -NonInteractive -ExecutionPolicy Bypass -File "' +
    ExpandConstant('{app}\register-daily-task.ps1') + '" -Program "' +
    ExpandConstant('{app}\{#ConsoleExe}') + '" -Command "{#DailyCommand}"' +
    ' -TaskPath "{#TaskFolder}" -TaskName "{#TaskName}"';
  if not ExecAsOriginalUser(ExpandConstant('{sys}\WindowsPowerShell\v1.0\powershell.exe'),
      Params, '', SW_HIDE, ewWaitUntilTerminated, ResultCode) or (ResultCode <> 0) then
    SuppressibleMsgBox(FmtMessage(CustomMessage('DailyJobFailed'), [IntToStr(ResultCode)]),
      mbError, MB_OK, IDOK);
end;

procedure CurStepChanged(CurStep: TSetupStep);
begin
  if (CurStep = ssPostInstall) and WizardIsTaskSelected('dailyjob') then
    RegisterDailyTask();
end;
