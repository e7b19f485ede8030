//! `--dry-run`: the [`Changes`] that change nothing.  Each change is
//! recorded against an overlay of the file system (what the action has
//! made, changed and removed so far answers the action's later queries),
//! and [`Preview::print`] shows them: each directory and file made or
//! removed with its owner and mode, each owner or mode changed, each
//! main.cf edit as a unified diff, and a last line that says whether
//! anything would change.

mod diff;

use std::fs::{self, Metadata};
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use nix::unistd::{Gid, Group, Uid, User};

use super::changes::{Changes, Tree};
use super::environment::Environment;
use super::plan::Plan;
use super::postconf;
use crate::config::Params;
use crate::error::{Error, Result};
use crate::instance::status::{self, Master};
use crate::lifecycle::checks::StatusProbe;
use crate::lifecycle::voice::tool_io_error;
use crate::maincf::write::read_main_cf;
use crate::maincf::{main_cf_path, path, regular};
use crate::msg;

/// Owner, group and permission bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Ownership {
    uid: u32,
    gid: u32,
    mode: u32,
}

impl Ownership {
    fn of(meta: &Metadata) -> Ownership {
        Ownership {
            uid: meta.uid(),
            gid: meta.gid(),
            mode: meta.mode() & 0o7777,
        }
    }

    /// What this process gives a new file or directory made with `mode`.
    fn new_with(mode: u32) -> Ownership {
        Ownership {
            uid: nix::unistd::geteuid().as_raw(),
            gid: nix::unistd::getegid().as_raw(),
            mode: mode & !current_umask(),
        }
    }
}

/// The umask, which only reading it by setting it tells; start-up set it,
/// and it is put back at once.
fn current_umask() -> u32 {
    use nix::sys::stat::{Mode, umask};
    let mask = umask(Mode::from_bits_truncate(0o022));
    umask(mask);
    mask.bits()
}

/// A file or directory the action makes.
#[derive(Debug)]
struct Made {
    path: PathBuf,
    directory: bool,
    size: u64,
    ownership: Ownership,
    /// Removed again later in the same action (a staging directory).
    gone: bool,
    /// The file it is an edited copy of.
    from: Option<PathBuf>,
    content: Vec<u8>,
}

/// One change, in the order the action makes them.
#[derive(Debug)]
enum Change {
    /// An index into [`Preview::made`].
    Made(usize),
    Ownership {
        path: PathBuf,
        before: Ownership,
        after: Ownership,
    },
    Removed {
        path: PathBuf,
        directory: bool,
        ownership: Ownership,
    },
    /// rmdir would fail: the directory stays, with a warning.
    Kept { path: PathBuf, why: std::io::Error },
    MainCf {
        path: PathBuf,
        before: Vec<u8>,
        after: Vec<u8>,
    },
}

/// The changes an action would make, none of them made.
#[derive(Debug, Default)]
pub struct Preview {
    made: Vec<Made>,
    changes: Vec<Change>,
}

impl Preview {
    fn made_at(&self, path: &Path) -> Option<usize> {
        self.made.iter().rposition(|m| m.path == path && !m.gone)
    }

    fn removed(&self, path: &Path) -> bool {
        self.changes
            .iter()
            .any(|c| matches!(c, Change::Removed { path: p, .. } if p == path))
    }

    /// What is at `path` now, as far as the action is concerned: a made
    /// entry, the real one, or (removed) nothing.
    fn current(&self, path: &Path, follow: bool) -> Option<(bool, Ownership)> {
        if let Some(i) = self.made_at(path) {
            return Some((self.made[i].directory, self.made[i].ownership));
        }
        if self.removed(path) {
            return None;
        }
        let meta = if follow {
            fs::metadata(path)
        } else {
            fs::symlink_metadata(path)
        };
        meta.ok().map(|m| (m.is_dir(), Ownership::of(&m)))
    }

    fn make(&mut self, made: Made) {
        self.made.push(made);
        self.changes.push(Change::Made(self.made.len() - 1));
    }

    /// Whether the previewed action changes anything.
    fn change_count(&self) -> (usize, usize) {
        let mut paths = 0;
        let mut main_cfs = 0;
        for change in &self.changes {
            match change {
                Change::Made(i) if self.made[*i].gone => {}
                Change::Made(_) | Change::Ownership { .. } | Change::Removed { .. } => paths += 1,
                Change::MainCf { before, after, .. } if before != after => main_cfs += 1,
                Change::MainCf { .. } | Change::Kept { .. } => {}
            }
        }
        (paths, main_cfs)
    }

    /// Prints the preview on stdout, after `header` (who would do the
    /// action).
    pub fn print(&self, header: &str) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{header}");
        for change in &self.changes {
            let _ = out.write_all(&self.describe(change));
        }
        let _ = writeln!(out, "{}", would_change(self.change_count()));
        let _ = out.flush();
    }

    fn describe(&self, change: &Change) -> Vec<u8> {
        let shown = |p: &Path| p.as_os_str().as_bytes().to_vec();
        match change {
            Change::Made(i) => {
                let made = &self.made[*i];
                if made.gone {
                    return Vec::new();
                }
                let what = if made.directory { "mkdir " } else { "create" };
                let mut line = msg!(
                    what,
                    b" ",
                    describe_ownership(made.ownership),
                    b" ",
                    shown(&made.path)
                );
                if !made.directory {
                    line.extend_from_slice(format!(" ({} bytes)", made.size).as_bytes());
                }
                line.push(b'\n');
                if let Some(from) = &made.from {
                    let original = regular::read(from).unwrap_or_default();
                    line.extend(diff::unified(
                        &shown(from),
                        &shown(&made.path),
                        &original,
                        &made.content,
                    ));
                }
                line
            }
            Change::Ownership {
                path,
                before,
                after,
            } => msg!(
                b"change ",
                describe_ownership(*after),
                b" ",
                shown(path),
                b" (was ",
                describe_ownership(*before),
                b")\n"
            ),
            Change::Removed {
                path,
                directory,
                ownership,
            } => {
                let what = if *directory { "rmdir " } else { "remove" };
                msg!(
                    what,
                    b" ",
                    describe_ownership(*ownership),
                    b" ",
                    shown(path),
                    b"\n"
                )
            }
            Change::Kept { path, why } => msg!(
                b"keep   ",
                shown(path),
                b" (",
                crate::error::strerror(why),
                b": left to be removed by hand)\n"
            ),
            Change::MainCf {
                path,
                before,
                after,
            } => {
                if before == after {
                    return msg!(b"keep   ", shown(path), b" (no change)\n");
                }
                let mut text = msg!(b"edit   ", shown(path), b"\n");
                text.extend(diff::unified(&shown(path), &shown(path), before, after));
                text
            }
        }
    }

    /// Records an edit of `<config_dir>/main.cf` from `before` to `after`;
    /// a later edit of the same file continues from the earlier one.
    fn edit_main_cf(&mut self, config_dir: &[u8], before: Vec<u8>, after: Vec<u8>) {
        let file = main_cf_path(config_dir);
        for change in self.changes.iter_mut() {
            if let Change::MainCf { path, after: a, .. } = change
                && *path == file
            {
                *a = after;
                return;
            }
        }
        self.changes.push(Change::MainCf {
            path: file,
            before,
            after,
        });
    }

    /// The text of `<config_dir>/main.cf` as the action would have left it.
    fn main_cf_now(&self, config_dir: &[u8]) -> Result<Vec<u8>> {
        let file = main_cf_path(config_dir);
        for change in &self.changes {
            if let Change::MainCf { path, after, .. } = change
                && *path == file
            {
                return Ok(after.clone());
            }
        }
        if let Some(i) = self.made_at(&file) {
            return Ok(self.made[i].content.clone());
        }
        read_main_cf(config_dir)
    }
}

/// The last line: whether anything would change.
fn would_change((paths, main_cfs): (usize, usize)) -> String {
    let plural =
        |n: usize, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    match (paths, main_cfs) {
        (0, 0) => "dry run: nothing would change".to_string(),
        (p, 0) => format!("dry run: would change {}", plural(p, "path", "paths")),
        (0, m) => format!(
            "dry run: would change {}",
            plural(m, "main.cf file", "main.cf files")
        ),
        (p, m) => format!(
            "dry run: would change {} and {}",
            plural(p, "path", "paths"),
            plural(m, "main.cf file", "main.cf files")
        ),
    }
}

/// `0755 root:postdrop`.
fn describe_ownership(o: Ownership) -> Vec<u8> {
    let user = User::from_uid(Uid::from_raw(o.uid))
        .ok()
        .flatten()
        .map_or_else(|| o.uid.to_string(), |u| u.name);
    let group = Group::from_gid(Gid::from_raw(o.gid))
        .ok()
        .flatten()
        .map_or_else(|| o.gid.to_string(), |g| g.name);
    format!("{:04o} {user}:{group}", o.mode).into_bytes()
}

fn io_error(errno: i32) -> std::io::Error {
    std::io::Error::from_raw_os_error(errno)
}

impl Changes for Preview {
    fn is_directory(&self, path: &Path) -> bool {
        self.current(path, true).is_some_and(|(dir, _)| dir)
    }

    fn exists(&self, path: &Path) -> bool {
        self.current(path, true).is_some()
    }

    fn tree(&self, root: &Path) -> std::result::Result<Tree, (PathBuf, std::io::Error)> {
        let mut tree: Tree = Vec::new();
        if self.made_at(root).is_none() && fs::symlink_metadata(root).is_ok() {
            for found in walkdir::WalkDir::new(root).follow_links(false) {
                let entry = found.map_err(|err| {
                    let at = err.path().unwrap_or(root).to_path_buf();
                    (at, err.into())
                })?;
                if !self.removed(entry.path()) {
                    let directory = entry.file_type().is_dir();
                    tree.push((entry.into_path(), directory));
                }
            }
        }
        for made in self
            .made
            .iter()
            .filter(|m| !m.gone && m.path.starts_with(root))
        {
            tree.push((made.path.clone(), made.directory));
        }
        if tree.is_empty() {
            return Err((root.to_path_buf(), io_error(libc::ENOENT)));
        }
        Ok(tree)
    }

    fn make_directory(&mut self, path: &Path, mode: u32) -> Result<()> {
        let refuse = |errno| {
            Err(tool_io_error(
                b"mkdir: cannot create directory",
                path,
                &io_error(errno),
            ))
        };
        if self.current(path, false).is_some() {
            return refuse(libc::EEXIST);
        }
        if !path
            .parent()
            .is_none_or(|p| p.as_os_str().is_empty() || self.is_directory(p))
        {
            return refuse(libc::ENOENT);
        }
        self.make(Made {
            path: path.to_path_buf(),
            directory: true,
            size: 0,
            ownership: Ownership::new_with(mode),
            gone: false,
            from: None,
            content: Vec::new(),
        });
        Ok(())
    }

    fn write_new(
        &mut self,
        file: &Path,
        content: &[u8],
        mode: u32,
        like: Option<&Metadata>,
    ) -> Result<()> {
        let mut ownership = Ownership::new_with(0o666);
        ownership.mode = mode;
        if let Some(like) = like {
            (ownership.uid, ownership.gid) = (like.uid(), like.gid());
        }
        self.make(Made {
            path: file.to_path_buf(),
            directory: false,
            size: content.len() as u64,
            ownership,
            gone: false,
            from: None,
            content: content.to_vec(),
        });
        Ok(())
    }

    fn install(&mut self, staged: &Path, target: &Path) -> Result<()> {
        let Some(i) = self.made_at(staged) else {
            let shown = target.as_os_str().as_bytes();
            return Err(Error::io("rename into", shown, io_error(libc::ENOENT)));
        };
        self.made[i].path = target.to_path_buf();
        Ok(())
    }

    fn made_from(&mut self, file: &Path, original: &Path) {
        if let Some(i) = self.made_at(file) {
            self.made[i].from = Some(original.to_path_buf());
        }
    }

    fn copy_file(&mut self, source: &Path, like: &Metadata, copy: &Path) -> Result<()> {
        self.make(Made {
            path: copy.to_path_buf(),
            directory: false,
            size: like.size(),
            ownership: Ownership::of(like),
            gone: false,
            from: None,
            content: regular::read(source).unwrap_or_default(),
        });
        Ok(())
    }

    fn set_ownership(
        &mut self,
        path: &Path,
        uid: u32,
        gid: Option<u32>,
        mode: Option<u32>,
        follow: bool,
    ) -> Result<()> {
        let Some((_, before)) = self.current(path, follow) else {
            return Err(tool_io_error(
                b"chown: cannot access",
                path,
                &io_error(libc::ENOENT),
            ));
        };
        let after = Ownership {
            uid,
            gid: gid.unwrap_or(before.gid),
            mode: mode.unwrap_or(before.mode),
        };
        if let Some(i) = self.made_at(path) {
            self.made[i].ownership = after;
            return Ok(());
        }
        for change in self.changes.iter_mut() {
            if let Change::Ownership {
                path: p, after: a, ..
            } = change
                && p == path
            {
                *a = after;
                return Ok(());
            }
        }
        if after != before {
            self.changes.push(Change::Ownership {
                path: path.to_path_buf(),
                before,
                after,
            });
        }
        Ok(())
    }

    fn remove_directory(&mut self, dir: &Path) -> std::io::Result<()> {
        if let Some(i) = self.made_at(dir) {
            let has_entries = self
                .made
                .iter()
                .any(|m| !m.gone && m.path.parent() == Some(dir));
            if has_entries {
                return Err(io_error(libc::ENOTEMPTY));
            }
            self.made[i].gone = true;
            return Ok(());
        }
        let Some((directory, ownership)) = self.current(dir, false) else {
            return self.keep(dir, io_error(libc::ENOENT));
        };
        if !directory {
            return self.keep(dir, io_error(libc::ENOTDIR));
        }
        let left = fs::read_dir(dir)
            .map(|entries| {
                entries
                    .filter_map(|e| e.ok())
                    .any(|e| !self.removed(&e.path()))
            })
            .unwrap_or(true);
        if left {
            return self.keep(dir, io_error(libc::ENOTEMPTY));
        }
        self.changes.push(Change::Removed {
            path: dir.to_path_buf(),
            directory: true,
            ownership,
        });
        Ok(())
    }

    fn remove_file(&mut self, file: &Path) -> std::io::Result<()> {
        let Some((directory, ownership)) = self.current(file, false) else {
            return Err(io_error(libc::ENOENT));
        };
        if directory {
            return Err(io_error(libc::EISDIR));
        }
        self.changes.push(Change::Removed {
            path: file.to_path_buf(),
            directory: false,
            ownership,
        });
        Ok(())
    }

    fn set_parameters(
        &mut self,
        config_dir: &[u8],
        edits: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
    ) -> Result<()> {
        let before = self
            .main_cf_now(config_dir)
            .map_err(postconf::postconf_failed)?;
        let after = postconf::parameters_set(config_dir, &before, edits)
            .map_err(postconf::postconf_failed)?;
        self.edit_main_cf(config_dir, before, after);
        Ok(())
    }

    fn replace_main_cf(&mut self, config_dir: &[u8], old: &[u8], new: &[u8]) -> Result<()> {
        self.edit_main_cf(config_dir, old.to_vec(), new.to_vec());
        Ok(())
    }

    fn print(&mut self, _output: &dyn Fn()) {}

    fn instance_is_running(
        &self,
        _params: &Params,
        _config_dir: &[u8],
        queue_dir: &[u8],
        _probe: &StatusProbe,
        _env: &Environment,
    ) -> bool {
        matches!(status::master(&path(queue_dir)), Master::Running(_))
    }

    fn write_journal(&mut self, _journal: &Path, _content: &[u8]) -> Result<()> {
        Ok(())
    }

    fn remove_journal(&mut self, _journal: &Path) {}
}

impl Preview {
    /// rmdir would fail: recorded, and the same error returned.
    fn keep(&mut self, dir: &Path, why: std::io::Error) -> std::io::Result<()> {
        let kind = why.raw_os_error().unwrap_or(0);
        self.changes.push(Change::Kept {
            path: dir.to_path_buf(),
            why,
        });
        Err(io_error(kind))
    }
}

/// What a dry run says of an action postmulti-script would do: the
/// script, its environment, and that it would change the files.
pub fn print_handover(header: &str, params: &Params, plan: &Plan, env: &Environment) {
    let mut out = std::io::stdout().lock();
    let script = msg!(
        params.daemon_directory,
        b"/postmulti-script -e ",
        plan.action.name()
    );
    let _ = writeln!(out, "{header}");
    let _ = out.write_all(&msg!(b"run    ", script, b", with the environment:\n"));
    for (name, value) in &env.0 {
        let _ = out.write_all(&msg!(b"       ", name, b"=", value, b"\n"));
    }
    let _ = writeln!(out, "dry run: postmulti-script would make the changes");
    let _ = out.flush();
}

/// What a dry run says when the action has nothing to do at all.
pub fn print_nothing_to_do(header: &str) {
    Preview::default().print(header);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_counts_what_would_change() {
        assert_eq!(would_change((0, 0)), "dry run: nothing would change");
        assert_eq!(would_change((1, 0)), "dry run: would change 1 path");
        assert_eq!(
            would_change((0, 2)),
            "dry run: would change 2 main.cf files"
        );
        assert_eq!(
            would_change((12, 1)),
            "dry run: would change 12 paths and 1 main.cf file"
        );
    }

    #[test]
    fn a_made_tree_answers_later_queries_and_nothing_is_touched() {
        let dir = tempfile::tempdir().unwrap();
        let top = dir.path().join("postfix-a");
        let mut preview = Preview::default();
        preview.make_directory(&top, 0o755).unwrap();
        assert!(preview.is_directory(&top));
        let staged = top.join(".tmp");
        preview.make_directory(&staged, 0o700).unwrap();
        preview
            .write_new(&staged.join("main.cf"), b"x = 1\n", 0o644, None)
            .unwrap();
        preview
            .install(&staged.join("main.cf"), &top.join("main.cf"))
            .unwrap();
        preview.remove_directory(&staged).unwrap();
        preview
            .set_ownership(&top, 0, Some(0), Some(0o750), true)
            .unwrap();
        assert!(!top.exists());
        assert_eq!(preview.change_count(), (2, 0));
        let text: Vec<u8> = preview
            .changes
            .iter()
            .flat_map(|c| preview.describe(c))
            .collect();
        let text = String::from_utf8(text).unwrap();
        assert!(text.starts_with("mkdir  0750 "), "{text}");
        assert!(text.contains("postfix-a/main.cf (6 bytes)"), "{text}");
        assert!(!text.contains("postfix-a/.tmp"), "{text}");
    }

    #[test]
    fn removing_a_directory_that_still_holds_files_keeps_it() {
        let dir = tempfile::tempdir().unwrap();
        let queue = dir.path().join("queue");
        fs::create_dir_all(queue.join("deferred/A")).unwrap();
        fs::write(queue.join("deferred/A/ABC123"), "").unwrap();
        fs::create_dir(queue.join("active")).unwrap();
        let mut preview = Preview::default();
        preview.remove_directory(&queue.join("active")).unwrap();
        let kept = preview
            .remove_directory(&queue.join("deferred"))
            .unwrap_err();
        assert_eq!(kept.raw_os_error(), Some(libc::ENOTEMPTY));
        assert!(preview.remove_directory(&queue).is_err());
        assert!(queue.join("active").is_dir());
        assert_eq!(preview.change_count(), (1, 0));
    }
}
