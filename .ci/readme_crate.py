"""Builds a crate outside the workspace from the README, as a new user would copy it.

The crate's [dependencies] are the README's "Use it in your project" TOML block, verbatim; the
checkout is reached as ../convkit, as that block assumes. Its main.rs runs every Rust listing of
the section "A first hour, by family", each wrapped in a function (lines starting with "# " are
kept without the marker, as rustdoc compiles them). Usage: python3 .ci/readme_crate.py OUT_DIR
(then `cargo run` in OUT_DIR/app).
"""
import os
import re
import sys

root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
readme = open(os.path.join(root, "README.md"), encoding="utf-8").read()

use_it = readme.split("<!-- ANCHOR: use_it -->")[1].split("<!-- ANCHOR_END: use_it -->")[0]
toml_blocks = re.findall(r"```toml\n(.*?)```", use_it, re.S)
if len(toml_blocks) != 1:
    sys.exit("readme_crate: expected one TOML block in the use_it section")
section = readme.split("## A first hour, by family")[1].split("\n## ")[0]
listings = re.findall(r"```rust\n(.*?)```", section, re.S)
if len(listings) < 5:
    sys.exit(f"readme_crate: expected the README's listings, found {len(listings)}")

out = os.path.abspath(sys.argv[1])
app = os.path.join(out, "app")
os.makedirs(os.path.join(app, "src"), exist_ok=True)
link = os.path.join(out, "convkit")
if not os.path.islink(link):
    os.symlink(root, link)

with open(os.path.join(app, "Cargo.toml"), "w", encoding="utf-8") as f:
    f.write('[package]\nname = "readme-app"\nversion = "0.1.0"\nedition = "2024"\npublish = false\n\n')
    f.write("[workspace]\n\n")
    f.write(toml_blocks[0])


def unhide(line):
    if line == "#":
        return ""
    return line[2:] if line.startswith("# ") else line


with open(os.path.join(app, "src", "main.rs"), "w", encoding="utf-8") as f:
    f.write("//! The README's listings, copied into a crate of their own.\n\n")
    for number, listing in enumerate(listings, 1):
        body = "\n".join("        " + unhide(line) for line in listing.rstrip("\n").split("\n"))
        f.write(f"fn listing_{number}() -> Result<(), Box<dyn std::error::Error>> {{\n")
        f.write(f"    let run = || {{\n{body}\n    }};\n    run()?;\n    Ok(())\n}}\n\n")
    f.write("fn main() -> Result<(), Box<dyn std::error::Error>> {\n")
    for number in range(1, len(listings) + 1):
        f.write(f'    listing_{number}()?;\n    println!("README listing {number}: ok");\n')
    f.write("    Ok(())\n}\n")
print(f"readme_crate: {len(listings)} listings in {app}")
