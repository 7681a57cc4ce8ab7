//! Running a program that opens `/dev/<something>` against stand-in device nodes, without
//! touching the host's `/dev`: inside a private mount namespace (`unshare -m`), `/dev` is
//! replaced by a fresh tmpfs holding the real `null`, `zero`, `random` and `urandom` (bind
//! mounts) and the given directory bound at `/dev/<name>`. Everything disappears with the
//! namespace when the program exits. Needs root and `unshare` (util-linux).

use std::io;
use std::path::Path;
use std::process::{Command, Output};

// The node directory is bound to the stage first: it may itself live under /dev (/dev/shm),
// which the tmpfs is about to hide.
const SCRIPT: &str = r#"set -e
stage="$1"; nodes="$2"; name="$3"; shift 3
mount --make-rprivate /
mkdir "$stage/dev" "$stage/nodes"
mount --bind "$nodes" "$stage/nodes"
mount --rbind /dev "$stage/dev"
mount -t tmpfs -o mode=755 none /dev
for n in null zero random urandom; do
    : > "/dev/$n"
    mount --bind "$stage/dev/$n" "/dev/$n"
done
mkdir "/dev/$name"
mount --bind "$stage/nodes" "/dev/$name"
exec "$@"
"#;

/// Runs `program args` with `envs` in a private mount namespace where `/dev/<name>` is the
/// directory `nodes` (for example stub `uverbsN` files for libibverbs) and returns its output.
///
/// The staging directory it uses is a temporary directory that is empty again (and removed)
/// once the namespace is gone.
pub fn run_with_dev_dir(
    nodes: &Path,
    name: &str,
    program: &str,
    args: &[&str],
    envs: &[(&str, &str)],
) -> io::Result<Output> {
    if name.is_empty() || name.contains('/') || name.starts_with('.') {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("/dev entry name {name:?}"),
        ));
    }
    let stage = tempfile::tempdir()?;
    let mut cmd = Command::new("unshare");
    cmd.args(["-m", "sh", "-c", SCRIPT, "sh"])
        .arg(stage.path())
        .arg(nodes)
        .arg(name)
        .arg(program)
        .args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.output()?;
    drop(stage);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Need, require};

    #[test]
    fn the_program_sees_the_stand_ins_and_the_host_does_not() {
        if !require(
            "private_dev::the_program_sees_the_stand_ins",
            &[Need::Root, Need::Program("unshare")],
        ) {
            return;
        }
        let nodes = tempfile::tempdir().unwrap();
        std::fs::write(nodes.path().join("uverbs0"), b"").unwrap();
        let name = format!("testbed-{}", std::process::id());
        let out = run_with_dev_dir(
            nodes.path(),
            &name,
            "sh",
            &[
                "-c",
                &format!("ls /dev/{name} && echo x > /dev/null && echo $T"),
            ],
            &[("T", "env-ok")],
        )
        .unwrap();
        assert!(out.status.success(), "{out:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), "uverbs0\nenv-ok\n");
        assert!(!Path::new("/dev").join(&name).exists());
    }
}
