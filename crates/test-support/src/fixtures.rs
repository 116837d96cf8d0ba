//! Loader for the shared HPACK test stories (`../shared/fixtures/hpack-test-case`).
//!
//! The folder is found through `PULLHTTP_SHARED` (the `shared/` directory) when set, else as
//! `shared/` beside the repository, which is where CI and the developers' machines put it.
//! A missing folder is a panic with the paths tried: a fixture test must never pass by
//! finding nothing.

use std::fs;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One case of a story: the header list and, outside `raw-data`, its encoding.
#[derive(Clone, Debug)]
pub struct Case {
    /// The header list, in order.
    pub headers: Vec<(Vec<u8>, Vec<u8>)>,
    /// The encoded field block (absent in `raw-data`).
    pub wire: Option<Vec<u8>>,
    /// The SETTINGS_HEADER_TABLE_SIZE in force for this case, when the story says.
    pub header_table_size: Option<usize>,
}

/// One story file: cases that share one compression context.
#[derive(Clone, Debug)]
pub struct Story {
    /// The file, for messages.
    pub path: PathBuf,
    /// The cases in order.
    pub cases: Vec<Case>,
}

/// The `shared/` folder.
pub fn shared_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("PULLHTTP_SHARED") {
        return PathBuf::from(dir);
    }
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .nth(2)
        .expect("crates/test-support sits two levels below the workspace root");
    let candidate = workspace.join("..").join("shared");
    assert!(
        candidate.join("fixtures").is_dir(),
        "shared fixtures not found at {} (set PULLHTTP_SHARED to the shared/ folder)",
        candidate.display()
    );
    candidate
}

/// The `hpack-test-case` folder.
pub fn hpack_dir() -> PathBuf {
    shared_dir().join("fixtures").join("hpack-test-case")
}

/// The story folders, sorted by name.
pub fn hpack_folders() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(hpack_dir())
        .unwrap_or_else(|e| panic!("reading {}: {e}", hpack_dir().display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Every story of one folder, sorted by file name.
pub fn load_folder(dir: &Path) -> Vec<Story> {
    let mut files: Vec<PathBuf> = fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files.iter().map(|p| load_story(p)).collect()
}

/// Parses one story file.
pub fn load_story(path: &Path) -> Story {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let json: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let cases = json["cases"]
        .as_array()
        .unwrap_or_else(|| panic!("{}: no cases", path.display()))
        .iter()
        .map(|case| Case {
            headers: case["headers"]
                .as_array()
                .expect("headers is a list")
                .iter()
                .map(|h| {
                    let (name, value) = h
                        .as_object()
                        .and_then(|o| o.iter().next())
                        .expect("a header is a one-entry object");
                    let value = value.as_str().expect("header value is a string");
                    (name.as_bytes().to_vec(), value.as_bytes().to_vec())
                })
                .collect(),
            wire: case["wire"].as_str().map(hex),
            header_table_size: case["header_table_size"]
                .as_u64()
                .map(|n| usize::try_from(n).expect("table size fits usize")),
        })
        .collect();
    Story {
        path: path.to_path_buf(),
        cases,
    }
}

/// Decodes a hex string.
pub fn hex(s: &str) -> Vec<u8> {
    assert!(s.len() % 2 == 0, "odd-length hex string");
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex digit"))
        .collect()
}
