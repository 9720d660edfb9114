<#
.SYNOPSIS
  Register QuầyThu's daily job (07:00) in Task Scheduler for the current Windows user.

.DESCRIPTION
  The installer runs this as the user who started Setup (not elevated). Run it again, as the
  counter's Windows user, to move the job to another account:

      powershell -ExecutionPolicy Bypass -File "C:\Program Files\QuayThu\register-daily-task.ps1"

  The task runs "quaythu-cli.exe daily" with an interactive logon, in that user's session, so
  it reads the same Credential Manager entries (the counter's signing key, the sync token) as
  the window. A run missed while the PC was off starts as soon as it is available again.
#>
param(
    [string]$Program = (Join-Path $PSScriptRoot "quaythu-cli.exe"),
    [string]$Command = "daily",
    [string]$TaskPath = "\QuayThu\",
    [string]$TaskName = "Daily",
    [string]$At = "07:00"
)
$ErrorActionPreference = "Stop"

$user = [System.Security.Principal.WindowsIdentity]::GetCurrent().Name
$action = New-ScheduledTaskAction -Execute $Program -Argument $Command `
    -WorkingDirectory (Split-Path -Parent $Program)
$trigger = New-ScheduledTaskTrigger -Daily -At $At
$settings = New-ScheduledTaskSettingsSet -StartWhenAvailable -DontStopIfGoingOnBatteries `
    -AllowStartIfOnBatteries -ExecutionTimeLimit (New-TimeSpan -Hours 1) `
    -MultipleInstances IgnoreNew
$principal = New-ScheduledTaskPrincipal -UserId $user -LogonType Interactive -RunLevel Limited

Register-ScheduledTask -TaskPath $TaskPath -TaskName $TaskName -Action $action `
    -Trigger $trigger -Settings $settings -Principal $principal `
    -Description "QuầyThu: đồng bộ, Mẫu 01-XN, đối chiếu, sao lưu (hằng ngày lúc $At)" `
    -Force | Out-Null
Write-Output "Đã đăng ký công việc hằng ngày $TaskPath$TaskName lúc $At cho $user."
