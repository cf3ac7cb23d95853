//! Packs misaki-rs's four lexicon tables (its JSON, parsed by misaki-rs itself) into
//! `OUT_DIR`, so a process reads them in place instead of parsing about 6 MB of JSON into
//! maps at every start.

#[path = "src/pack.rs"]
mod pack;

use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let tables: [(&str, fn() -> _); 4] = [
        ("us_gold", misaki_rs::data::load_us_gold),
        ("us_silver", misaki_rs::data::load_us_silver),
        ("gb_gold", misaki_rs::data::load_gb_gold),
        ("gb_silver", misaki_rs::data::load_gb_silver),
    ];
    for (name, load) in tables {
        let path = out.join(format!("{name}.bin"));
        std::fs::write(&path, pack::pack(load()))
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
    }
    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=src/pack.rs");
}
