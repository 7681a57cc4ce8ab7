//! Rendering a namespace's view of the tree to disk: directories, attribute files with the
//! kernel's text and permissions, and relative symbolic links, so that `dir/sys` reads like
//! `/sys`. Attributes whose read fails in the kernel (say `carrier` of a down link, EINVAL) have
//! no file in a rendered tree: a plain file cannot fail a read.

use std::fs;
use std::io;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::model::NsId;
use crate::tree::{Dir, Node, SysfsTree, Value};

/// Renders `tree` as namespace `ns` sees it under `out` (created if missing; existing entries
/// with the same names are an error).
pub fn render(tree: &SysfsTree, ns: NsId, out: &Path) -> io::Result<()> {
    fs::create_dir_all(out)?;
    render_dir(tree.root(), ns, out)
}

fn render_dir(dir: &Dir, ns: NsId, at: &Path) -> io::Result<()> {
    for (name, node) in dir.visible(ns) {
        let path = at.join(name);
        match node {
            Node::Dir(d) => {
                fs::create_dir_all(&path)?;
                render_dir(d, ns, &path)?;
            }
            Node::Link(target) => std::os::unix::fs::symlink(target, &path)?,
            Node::File(f) => {
                let text = match &f.value {
                    Value::Text(t) if f.readable => t.as_str(),
                    Value::Text(_) => "",
                    Value::Errno(_) => continue,
                };
                fs::write(&path, text)?;
                let mode = match (f.readable, f.write.is_some()) {
                    (true, true) => 0o644,
                    (true, false) => 0o444,
                    (false, _) => 0o200,
                };
                fs::set_permissions(&path, fs::Permissions::from_mode(mode))?;
            }
        }
    }
    Ok(())
}
