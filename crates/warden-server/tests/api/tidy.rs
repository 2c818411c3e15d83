//! Tidy checks: architecture rules as plain scans of the sources.

use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The console builds the application's commands from its forms and shows
/// its records: it never reaches for the JSON API's wire types or handlers.
#[test]
fn the_console_imports_neither_wire_types_nor_handlers() {
    let console = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/console");
    let mut files = Vec::new();
    rust_files(&console, &mut files);
    assert!(files.len() > 5, "the console's sources are where they were");
    let mut offending = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or_default();
            if ["crate::wire", "crate::handlers", "crate::enforcement_wire"]
                .iter()
                .any(|forbidden| code.contains(forbidden))
            {
                offending.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}

/// Handlers and the console reach the store only through the application.
#[test]
fn only_the_application_touches_the_store() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    for dir in ["handlers", "console"] {
        rust_files(&src.join(dir), &mut files);
    }
    let mut offending = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        for (number, line) in text.lines().enumerate() {
            if line.contains(".store.") || line.trim() == ".store" {
                offending.push(format!(
                    "{}:{}: {}",
                    file.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(offending.is_empty(), "{}", offending.join("\n"));
}
