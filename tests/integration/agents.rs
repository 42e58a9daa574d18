//! The real agents the tests run: each pinned in tests/agents/package.json under an npm alias
//! (`<agent>-oldest`, `<agent>-newest`), installed by `scripts/test`.

use std::path::{Path, PathBuf};

/// The installed package of the npm alias `alias`, checked to be `npm_name`; returns its
/// directory and its manifest.
pub fn pinned_package(alias: &str, npm_name: &str) -> (PathBuf, serde_json::Value) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/agents/node_modules")
        .join(alias);
    let manifest = dir.join("package.json");
    let text = std::fs::read_to_string(&manifest).unwrap_or_else(|e| {
        panic!(
            "{}: {e}: scripts/test installs the pinned agents (npm install in tests/agents)",
            manifest.display()
        )
    });
    let package: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(package["name"], npm_name, "{manifest:?}");
    (dir, package)
}

/// The version a package manifest names.
pub fn version(package: &serde_json::Value) -> String {
    package["version"].as_str().unwrap().to_string()
}

/// `script` on a PATH of its own (`dir/bin`), linked under the name users call it by.
pub fn link_as(dir: &Path, script: &Path, name: &str) -> PathBuf {
    assert!(
        script.exists(),
        "{} is missing: scripts/test installs the pinned agents (npm install in tests/agents)",
        script.display()
    );
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let link = bin.join(name);
    std::os::unix::fs::symlink(script, &link).unwrap();
    link
}
