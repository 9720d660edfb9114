<#
.SYNOPSIS
  Build QuầyThu's Windows installer: the PyInstaller bundle, then the Inno Setup script.

.DESCRIPTION
  Run from any folder on a Windows PC with Python 3.11+ (the py launcher or python on PATH) and
  Inno Setup 6 (ISCC.exe on PATH or in Program Files):

      powershell -ExecutionPolicy Bypass -File installer\windows\build.ps1 [-Smoke]

  1. .venv-win\ from requirements\dev.lock (hash-checked, as on Linux) plus the project;
  2. PyInstaller with installer\quaythu.spec -> build\windows\dist\quaythu\
     (quaythu.exe: the window; quaythu-cli.exe: the commands, with a console);
  3. with -Smoke, the built console program runs --help, init, pay, receipt, report, verify
     on a throw-away database (the counter key goes to this user's Credential Manager);
  4. ISCC -> build\windows\QuayThu-Setup-<version>.exe
#>
param(
    [switch]$Smoke,
    [string]$Python = ""
)
$ErrorActionPreference = "Stop"
$Root = (Resolve-Path (Join-Path $PSScriptRoot "..\..")).Path
Set-Location $Root

function Invoke-Checked([string]$Exe, [string[]]$Arguments) {
    & $Exe @Arguments
    if ($LASTEXITCODE -ne 0) { throw "$Exe $($Arguments -join ' ') exited with $LASTEXITCODE" }
}

if (-not $Python) {
    if (Get-Command py -ErrorAction SilentlyContinue) { $Python = "py" } else { $Python = "python" }
}
$Venv = Join-Path $Root ".venv-win"
$Py = Join-Path $Venv "Scripts\python.exe"
if (-not (Test-Path $Py)) {
    if ($Python -eq "py") { Invoke-Checked "py" @("-3", "-m", "venv", $Venv) }
    else { Invoke-Checked $Python @("-m", "venv", $Venv) }
}
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--upgrade", "pip")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--require-hashes", "-r", "requirements\dev.lock")
Invoke-Checked $Py @("-m", "pip", "install", "-q", "--no-deps", "-e", ".")

$Version = & $Py -c "import tomllib; print(tomllib.load(open('pyproject.toml','rb'))['project']['version'])"
$Dist = Join-Path $Root "build\windows\dist"
Invoke-Checked $Py @("-m", "PyInstaller", "--noconfirm", "--clean", "--distpath", $Dist,
    "--workpath", (Join-Path $Root "build\windows\work"), "installer\quaythu.spec")
$Bundle = Join-Path $Dist "quaythu"
$Cli = Join-Path $Bundle "quaythu-cli.exe"
foreach ($exe in @("quaythu.exe", "quaythu-cli.exe")) {
    if (-not (Test-Path (Join-Path $Bundle $exe))) { throw "the bundle has no $exe" }
}
Invoke-Checked $Cli @("--help")

if ($Smoke) {
    $Work = Join-Path $env:TEMP ("quaythu-smoke-" + [guid]::NewGuid())
    New-Item -ItemType Directory -Path $Work | Out-Null
    $Db = Join-Path $Work "counter.sqlite3"
    $env:QUAYTHU_PASSWORD = "smoke-" + [guid]::NewGuid()
    $U = @("--user", "quantri", "--db", $Db)
    Invoke-Checked $Cli @("init", "--db", $Db, "--organisation", "Smoke", "--collection-point",
        "Smoke", "--counter-code", ("SMOKE-" + (Get-Random -Maximum 99999)), "--admin-user",
        "quantri", "--admin-name", "Smoke Test")
    Invoke-Checked $Cli (@("participant", "add", "--name", "Nguyen Van A", "--dob", "14/03/1985",
        "--sex", "nam", "--cccd", "019185001234") + $U)
    $Paid = & $Cli (@("pay", "--participant", "019185001234", "--scheme", "bhxh_tn",
        "--income", "1500000", "--category", "other", "--method", "12", "--json") + $U)
    if ($LASTEXITCODE -ne 0) { throw "pay exited with $LASTEXITCODE" }
    $Day = (($Paid -join "`n") | ConvertFrom-Json).business_date  # the counter's business day
    foreach ($layout in @("80mm", "a5")) {
        Invoke-Checked $Cli @("receipt", "1", "--format", $layout, "--db", $Db, "--output",
            (Join-Path $Work "receipt-$layout.pdf"))
    }
    foreach ($format in @("pdf", "xlsx", "csv")) {
        Invoke-Checked $Cli @("report", "--date", $Day, "--format", $format, "--db", $Db,
            "--output", $Work)
        if (-not (Test-Path (Join-Path $Work "01-XN_*_$Day.$format"))) {
            throw "report --format $format wrote no file"
        }
    }
    Invoke-Checked $Cli @("verify", "--db", $Db)
    Write-Output "smoke test of the bundle passed ($Work)"
}

$Iscc = (Get-Command ISCC.exe -ErrorAction SilentlyContinue).Source
if (-not $Iscc) {
    foreach ($dir in @(${env:ProgramFiles(x86)}, $env:ProgramFiles)) {
        $candidate = Join-Path $dir "Inno Setup 6\ISCC.exe"
        if ($dir -and (Test-Path $candidate)) { $Iscc = $candidate; break }
    }
}
if (-not $Iscc) { throw "Inno Setup 6 (ISCC.exe) not found: install it from jrsoftware.org" }
Invoke-Checked $Iscc @("/Q", "/DAppVersion=$Version", "/DBundleDir=$Bundle",
    (Join-Path $Root "installer\windows\quaythu.iss"))
Get-ChildItem (Join-Path $Root "build\windows\QuayThu-Setup-*.exe") | ForEach-Object { $_.FullName }
