//! Hostile delivery files against the real `dh run` and `dh validate` (issue 12): a CSV without its header row, a
//! CSV whose line breaks are not recognised, a NUL-filled CSV, symbolic links to `/etc/passwd` and `/dev/zero`, a
//! FIFO, a workbook with one cell at XFD1048576, and a Stata file whose value-label length field claims 4 GB. Each
//! run ends within a minute (under `prlimit --as=4G` where `prlimit` exists), THA fails with exit code 4 while KEN
//! (and IDN) are published, and none of the strings planted in the hostile file appears in any file of `OUT`
//! (Parquet, HTML, JSON, CSV, the workbook), on stdout, on stderr or in the JSON log; every error message is under
//! the message cap.

// An integration test: a failed unwrap, expect or panic is a failed test (the workspace lints deny them outside tests).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use common::{describe, s, workspace};

const KEY: &str = "hostile-files-key-0123456789abcdef01234567";
/// The cap of `dh_ingest::message` plus the country prefix and the `error:` of the human log.
const MESSAGE_CAP: usize = 2000 + 200;
const LIMIT: Duration = Duration::from_secs(60);

/// Runs `dh` with `args` from the workspace root, under a 4 GiB address-space limit when `prlimit` is available,
/// killing it after [`LIMIT`]. Returns the output and the time taken.
fn dh_limited(args: &[&str]) -> (Output, Duration) {
    let bin = env!("CARGO_BIN_EXE_dh");
    let prlimit = Path::new("/usr/bin/prlimit").exists();
    let mut command = if prlimit {
        let mut c = Command::new("/usr/bin/prlimit");
        c.arg("--as=4294967296").arg(bin);
        c
    } else {
        Command::new(bin)
    };
    command
        .args(args)
        .current_dir(workspace())
        .env("DH_PSEUDONYM_KEY", KEY)
        .env_remove("RUST_LOG")
        .env_remove("DH_ALLOW_LINKS_OUTSIDE_RAW")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let start = Instant::now();
    let mut child = command.spawn().expect("spawn dh");
    // Drain the pipes on threads so a chatty child cannot block on a full pipe.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stdout, &mut v).ok();
        v
    });
    let err_thread = std::thread::spawn(move || {
        let mut v = Vec::new();
        std::io::Read::read_to_end(&mut stderr, &mut v).ok();
        v
    });
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > LIMIT {
            let _ = child.kill();
            let status = child.wait().expect("wait");
            let stderr = err_thread.join().unwrap_or_default();
            panic!(
                "dh {args:?} still running after {LIMIT:?} (killed: {status}); stderr: {}",
                String::from_utf8_lossy(&stderr[..stderr.len().min(2000)])
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let elapsed = start.elapsed();
    let output = Output {
        status,
        stdout: out_thread.join().unwrap_or_default(),
        stderr: err_thread.join().unwrap_or_default(),
    };
    (output, elapsed)
}

/// Synthetic deliveries of THA, KEN and IDN, generated once per test process.
fn pristine(dir: &Path) -> PathBuf {
    let raw = dir.join("pristine");
    let (out, _) = dh_limited(&[
        "synth",
        "--out",
        s(&raw),
        "--countries",
        "THA,KEN,IDN",
        "--seed",
        "5",
    ]);
    assert!(out.status.success(), "synth: {}", describe(&out));
    raw
}

/// A copy of the pristine raw folder for one case.
fn raw_copy(pristine: &Path, dir: &Path, case: &str) -> PathBuf {
    let raw = dir.join(case).join("raw");
    for country in ["THA", "KEN", "IDN"] {
        let to = raw.join(country);
        std::fs::create_dir_all(&to).expect("mkdir");
        for entry in std::fs::read_dir(pristine.join(country)).expect("read pristine") {
            let entry = entry.expect("entry");
            std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy");
        }
    }
    raw
}

/// Every byte of every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(meta) = std::fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            out.extend(files_under(&path));
        } else if meta.is_file() {
            out.push((path.clone(), std::fs::read(&path).unwrap_or_default()));
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    !needle.is_empty()
        && haystack
            .windows(needle.len())
            .any(|w| w == needle.as_bytes())
}

/// Runs `dh run` (JSON log) and `dh validate` on `raw`, and checks: exit 4 within the limit, KEN (and IDN)
/// published, THA named as failed, no planted string anywhere, every message under the cap.
fn check_case(dir: &Path, case: &str, raw: &Path, planted: &[String]) {
    let out_dir = dir.join(case).join("out");
    let (run, elapsed) = dh_limited(&[
        "run",
        "--raw-dir",
        s(raw),
        "--out-dir",
        s(&out_dir),
        "--countries",
        "THA,KEN,IDN",
        "--jobs",
        "2",
        "--quiet",
        "--log-format",
        "json",
    ]);
    assert_eq!(run.status.code(), Some(4), "{case}: {}", describe(&run));
    assert!(
        elapsed < LIMIT,
        "{case}: took {elapsed:?}: {}",
        describe(&run)
    );
    let stderr = String::from_utf8_lossy(&run.stderr);
    for line in stderr.lines() {
        assert!(
            line.chars().count() < MESSAGE_CAP,
            "{case}: a stderr line of {} characters",
            line.chars().count()
        );
    }
    assert!(
        stderr.contains("\"country\":\"THA\"") && stderr.contains("\"status\":\"failed\""),
        "{case}: {stderr}"
    );
    for country in ["KEN", "IDN"] {
        let part = out_dir.join(format!(
            "normalised/child_survey/country={country}/part-0.parquet"
        ));
        assert!(part.is_file(), "{case}: {country} not published");
    }
    let manifest = std::fs::read_to_string(out_dir.join("manifest.json")).expect("manifest");
    let manifest: serde_json::Value = serde_json::from_str(&manifest).expect("manifest json");
    let failed = manifest["countries"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| c["country"] == "THA")
        .cloned()
        .unwrap_or_default();
    assert_ne!(failed["status"], "ok", "{case}: {failed}");
    let text = failed.to_string();
    assert!(
        text.len() < 3 * MESSAGE_CAP,
        "{case}: THA's manifest entry has {} bytes",
        text.len()
    );

    let (validate, elapsed) = dh_limited(&[
        "validate",
        "--raw-dir",
        s(raw),
        "--countries",
        "THA",
        "--jobs",
        "1",
    ]);
    assert_eq!(
        validate.status.code(),
        Some(4),
        "{case}: {}",
        describe(&validate)
    );
    assert!(elapsed < LIMIT, "{case}: validate took {elapsed:?}");
    for line in String::from_utf8_lossy(&validate.stdout).lines() {
        assert!(
            line.chars().count() < MESSAGE_CAP,
            "{case}: a validate line of {} characters",
            line.chars().count()
        );
    }

    let mut places: Vec<(String, Vec<u8>)> = files_under(&out_dir)
        .into_iter()
        .map(|(p, b)| (p.display().to_string(), b))
        .collect();
    places.push(("dh run stdout".into(), run.stdout.clone()));
    places.push(("dh run stderr (JSON log)".into(), run.stderr.clone()));
    places.push(("dh validate stdout".into(), validate.stdout.clone()));
    places.push(("dh validate stderr".into(), validate.stderr.clone()));
    for needle in planted {
        for (place, bytes) in &places {
            assert!(
                !contains(bytes, needle),
                "{case}: planted string {needle:?} found in {place}"
            );
        }
    }
}

/// Name and phone (2nd and 3rd fields) of THA's first child row: what a header-less file would put in the header.
fn first_row_identifiers(csv: &str) -> Vec<String> {
    let first = csv.lines().nth(1).expect("a data row");
    first
        .split(',')
        .skip(1)
        .take(2)
        .map(str::to_string)
        .collect()
}

const THA_CHILD: &str = "TH_DH_child_final.csv";

/// A stored (uncompressed) zip archive of `members`, written by hand (no zip library among the test's dependencies).
fn stored_zip(members: &[(&str, Vec<u8>)]) -> Vec<u8> {
    fn crc32(bytes: &[u8]) -> u32 {
        let mut crc = !0u32;
        for &b in bytes {
            crc ^= u32::from(b);
            for _ in 0..8 {
                crc = if crc & 1 == 1 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, body) in members {
        let offset = out.len() as u32;
        let crc = crc32(body);
        let size = body.len() as u32;
        let header = |sig: u32, central_entry: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central_entry {
                h.extend_from_slice(&20u16.to_le_bytes());
            }
            h.extend_from_slice(&20u16.to_le_bytes());
            h.extend_from_slice(&[0, 0, 0, 0, 0, 0, 0, 0]);
            h.extend_from_slice(&crc.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&size.to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes());
            if central_entry {
                // Comment length, disk number, internal and external attributes.
                h.extend_from_slice(&[0; 10]);
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend(header(0x0403_4b50, false));
        out.extend_from_slice(body);
        central.extend(header(0x0201_4b50, true));
    }
    let at = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(members.len() as u16).to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&at.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out
}

/// THA's police workbook rebuilt with its sheet's cells as inline text plus one number at XFD1048576, and planted
/// names in the identifier columns of the first row.
fn far_cell_workbook(pristine_xlsx: &Path, planted: &str) -> Vec<u8> {
    use calamine::{Reader, open_workbook_auto};
    let mut wb = open_workbook_auto(pristine_xlsx).expect("police workbook");
    let range = wb.worksheet_range("Cases").expect("Cases sheet");
    let esc = |t: String| {
        t.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
    };
    let mut rows = String::new();
    for (r, row) in range.rows().enumerate() {
        rows.push_str(&format!(r#"<row r="{}">"#, r + 1));
        for (c, cell) in row.iter().enumerate() {
            let mut text = cell.to_string();
            let header = range.get((0, c)).map(|h| h.to_string()).unwrap_or_default();
            if r == 1 && (header == "Victim name" || header == "Suspect name") {
                text = planted.to_string();
            }
            let col = (b'A' + c as u8) as char;
            rows.push_str(&format!(
                r#"<c r="{col}{}" t="inlineStr"><is><t>{}</t></is></c>"#,
                r + 1,
                esc(text)
            ));
        }
        rows.push_str("</row>");
    }
    rows.push_str(r#"<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>"#);
    let ns = r#"xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships""#;
    let rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships";
    let sheet = format!(
        r#"<?xml version="1.0"?><worksheet {ns}><dimension ref="A1:XFD1048576"/><sheetData>{rows}</sheetData></worksheet>"#
    );
    stored_zip(&[
        (
            "[Content_Types].xml",
            br#"<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>"#.to_vec(),
        ),
        (
            "_rels/.rels",
            format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>"#).into_bytes(),
        ),
        (
            "xl/workbook.xml",
            format!(r#"<?xml version="1.0"?><workbook {ns}><sheets><sheet name="Cases" sheetId="1" r:id="rId1"/></sheets></workbook>"#).into_bytes(),
        ),
        (
            "xl/_rels/workbook.xml.rels",
            format!(r#"<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>"#).into_bytes(),
        ),
        ("xl/worksheets/sheet1.xml", sheet.into_bytes()),
    ])
}

#[test]
fn hostile_files_fail_their_country_quickly_and_leak_nothing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let pristine = pristine(dir);
    let child = std::fs::read_to_string(pristine.join("THA").join(THA_CHILD)).expect("THA child");
    let identifiers = first_row_identifiers(&child);
    assert_eq!(identifiers.len(), 2, "{identifiers:?}");

    // No header row: the first child's name and phone become header cells.
    let raw = raw_copy(&pristine, dir, "no_header");
    let body: String = child.lines().skip(1).map(|l| format!("{l}\n")).collect();
    std::fs::write(raw.join("THA").join(THA_CHILD), body).expect("write");
    check_case(dir, "no_header", &raw, &identifiers);

    // No recognised line break (record separators), repeated past the 16 MiB record limit: one record.
    let raw = raw_copy(&pristine, dir, "no_line_breaks");
    let one = child.replace('\n', "\u{1e}");
    let mut body = String::new();
    while body.len() <= 17 << 20 {
        body.push_str(&one);
    }
    std::fs::write(raw.join("THA").join(THA_CHILD), body).expect("write");
    check_case(dir, "no_line_breaks", &raw, &identifiers);

    // NUL bytes with a name in the middle: one header cell of 4 MB.
    let raw = raw_copy(&pristine, dir, "nul_filled");
    let mut nul = vec![0u8; 2 << 20];
    nul.extend_from_slice(b"NulPlanted Name");
    nul.extend_from_slice(&[0u8; 2 << 20]);
    std::fs::write(raw.join("THA").join(THA_CHILD), nul).expect("write");
    check_case(dir, "nul_filled", &raw, &["NulPlanted".to_string()]);

    #[cfg(unix)]
    {
        use std::os::unix::fs::symlink;
        // A link to a file outside the raw folder.
        let raw = raw_copy(&pristine, dir, "link_to_passwd");
        let target = raw.join("THA").join(THA_CHILD);
        std::fs::remove_file(&target).expect("rm");
        symlink("/etc/passwd", &target).expect("symlink");
        check_case(dir, "link_to_passwd", &raw, &["root:x:0".to_string()]);

        // A link to a device that never ends.
        let raw = raw_copy(&pristine, dir, "link_to_dev_zero");
        let target = raw.join("THA").join(THA_CHILD);
        std::fs::remove_file(&target).expect("rm");
        symlink("/dev/zero", &target).expect("symlink");
        check_case(dir, "link_to_dev_zero", &raw, &[]);

        // A FIFO nobody writes to: opening it would block forever.
        let raw = raw_copy(&pristine, dir, "fifo");
        let target = raw.join("THA").join(THA_CHILD);
        std::fs::remove_file(&target).expect("rm");
        let made = Command::new("mkfifo")
            .arg(&target)
            .status()
            .expect("mkfifo");
        assert!(made.success());
        check_case(dir, "fifo", &raw, &[]);
    }

    // A Stata file whose first value-label table claims 4 GB (the dta library allocated what it claimed).
    let raw = raw_copy(&pristine, dir, "dta_label_length");
    let dta = raw.join("IDN").join("IDN_pekerja_garis_depan.dta");
    let mut bytes = std::fs::read(&dta).expect("IDN dta");
    let tag = b"<value_labels><lbl>";
    let at = bytes
        .windows(tag.len())
        .position(|w| w == tag)
        .expect("a value-label table")
        + tag.len();
    bytes[at..at + 4].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    std::fs::write(&dta, bytes).expect("write");
    let (run, elapsed) = dh_limited(&[
        "run",
        "--raw-dir",
        s(&raw),
        "--out-dir",
        s(&dir.join("dta_label_length/out")),
        "--countries",
        "THA,KEN,IDN",
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(4), "{}", describe(&run));
    assert!(elapsed < LIMIT);
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains("IDN (read)") && stderr.contains("declares 4294967280 bytes"),
        "{stderr}"
    );
}

/// One cell at XFD1048576 of THA's police workbook: the run reads it sparsely (the row is quarantined as ragged)
/// and publishes every country; `dh country new` refuses to lay the sheet out (it asked for 512 GiB); the planted
/// victim and suspect names appear nowhere.
#[test]
fn far_cell_workbook_is_read_sparsely_and_refused_by_onboarding() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let dir = tmp.path();
    let pristine = pristine(dir);
    let raw = raw_copy(&pristine, dir, "far_cell");
    let police = raw.join("THA").join("THA_police_cases_2017_2019.xlsx");
    let planted = "Planted Victimname 0899990001";
    std::fs::write(
        &police,
        far_cell_workbook(
            &pristine.join("THA/THA_police_cases_2017_2019.xlsx"),
            planted,
        ),
    )
    .expect("write workbook");
    let out_dir = dir.join("far_cell/out");
    let (run, elapsed) = dh_limited(&[
        "run",
        "--raw-dir",
        s(&raw),
        "--out-dir",
        s(&out_dir),
        "--countries",
        "THA,KEN",
        "--quiet",
    ]);
    assert_eq!(run.status.code(), Some(0), "{}", describe(&run));
    assert!(elapsed < LIMIT);
    let config = dir.join("far_cell/config");
    std::fs::create_dir_all(&config).expect("mkdir");
    std::fs::copy(
        workspace().join("countries/_defaults.toml"),
        config.join("_defaults.toml"),
    )
    .expect("copy defaults");
    let (onboard, elapsed) = dh_limited(&[
        "country",
        "new",
        "--from",
        s(&raw.join("THA")),
        "--config-dir",
        s(&config),
        "ZZZ",
    ]);
    assert!(elapsed < LIMIT);
    assert_ne!(onboard.status.code(), Some(134), "{}", describe(&onboard));
    let stderr = String::from_utf8_lossy(&onboard.stderr);
    assert!(
        stderr.contains("spans A1:XFD1048576"),
        "{}",
        describe(&onboard)
    );
    let mut places: Vec<(String, Vec<u8>)> = files_under(&out_dir)
        .into_iter()
        .chain(files_under(&config))
        .map(|(p, b)| (p.display().to_string(), b))
        .collect();
    places.push(("run stderr".into(), run.stderr));
    places.push(("onboard stderr".into(), onboard.stderr));
    places.push(("onboard stdout".into(), onboard.stdout));
    for (place, bytes) in &places {
        assert!(!contains(bytes, "Victimname"), "planted name in {place}");
    }
}
