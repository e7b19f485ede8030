//! The real [`Changes`]: each one made, and recorded in the undo log before
//! it is made, so that an action that fails half-way (or returns early
//! with an error) puts back what it did.  [`Applied::commit`] ends the
//! action and forgets the log.

use std::fs::{self, Metadata};
use std::io::Write;
use std::path::{Path, PathBuf};

use super::files::{
    copy_file, install, make_directory, remove_directory, remove_file, write_atomically, write_new,
};
use super::undo::Undo;
use crate::config::Params;
use crate::error::Result;
use crate::lifecycle::changes::{Changes, Tree};
use crate::lifecycle::checks::{StatusProbe, postfix_status_says_running};
use crate::lifecycle::environment::Environment;
use crate::lifecycle::postconf;
use crate::lifecycle::voice::tool_io_error;
use crate::maincf::write::update_main_cf;

/// The changes of one action, made.
#[derive(Default)]
pub struct Applied {
    undo: Undo,
}

impl Applied {
    /// The action is complete: nothing is to be undone.
    pub fn commit(self) {
        self.undo.commit();
    }
}

impl Changes for Applied {
    fn is_directory(&self, path: &Path) -> bool {
        path.is_dir()
    }

    fn exists(&self, path: &Path) -> bool {
        path.exists()
    }

    fn tree(&self, path: &Path) -> std::result::Result<Tree, (PathBuf, std::io::Error)> {
        walkdir::WalkDir::new(path)
            .follow_links(false)
            .into_iter()
            .map(|found| match found {
                Ok(entry) => {
                    let directory = entry.file_type().is_dir();
                    Ok((entry.into_path(), directory))
                }
                Err(err) => {
                    let at = err.path().unwrap_or(path).to_path_buf();
                    Err((at, err.into()))
                }
            })
            .collect()
    }

    fn make_directory(&mut self, path: &Path, mode: u32) -> Result<()> {
        make_directory(path, mode, &mut self.undo)
    }

    fn write_new(
        &mut self,
        file: &Path,
        content: &[u8],
        mode: u32,
        like: Option<&Metadata>,
    ) -> Result<()> {
        write_new(file, content, mode, like, &mut self.undo)
    }

    fn install(&mut self, staged: &Path, target: &Path) -> Result<()> {
        install(staged, target, &mut self.undo)
    }

    fn made_from(&mut self, _file: &Path, _original: &Path) {}

    fn copy_file(&mut self, source: &Path, like: &Metadata, copy: &Path) -> Result<()> {
        copy_file(source, like, copy, &mut self.undo)
    }

    fn set_ownership(
        &mut self,
        path: &Path,
        uid: u32,
        gid: Option<u32>,
        mode: Option<u32>,
        follow: bool,
    ) -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        self.undo
            .will_change_metadata(path)
            .map_err(|e| tool_io_error(b"chown: cannot access", path, &e))?;
        let chown = |uid, gid| {
            if follow {
                std::os::unix::fs::chown(path, uid, gid)
            } else {
                std::os::unix::fs::lchown(path, uid, gid)
            }
        };
        chown(Some(uid), None)
            .map_err(|e| tool_io_error(b"chown: changing ownership of", path, &e))?;
        if let Some(gid) = gid {
            chown(None, Some(gid))
                .map_err(|e| tool_io_error(b"chgrp: changing group of", path, &e))?;
        }
        if let Some(mode) = mode {
            fs::set_permissions(path, fs::Permissions::from_mode(mode))
                .map_err(|e| tool_io_error(b"chmod: changing permissions of", path, &e))?;
        }
        Ok(())
    }

    fn remove_directory(&mut self, dir: &Path) -> std::io::Result<()> {
        remove_directory(dir)
    }

    fn remove_file(&mut self, file: &Path) -> std::io::Result<()> {
        remove_file(file, &mut self.undo)
    }

    fn set_parameters(
        &mut self,
        config_dir: &[u8],
        edits: &dyn Fn(&[u8]) -> Vec<Vec<u8>>,
    ) -> Result<()> {
        postconf::set_parameters(config_dir, edits)
    }

    fn replace_main_cf(&mut self, config_dir: &[u8], old: &[u8], new: &[u8]) -> Result<()> {
        update_main_cf(config_dir, |_| Ok(new.to_vec()))?;
        self.undo.replaced_main_cf(config_dir, old.to_vec());
        Ok(())
    }

    fn print(&mut self, output: &dyn Fn()) {
        output();
        let _ = std::io::stdout().flush();
    }

    fn instance_is_running(
        &self,
        params: &Params,
        config_dir: &[u8],
        queue_dir: &[u8],
        probe: &StatusProbe,
        env: &Environment,
    ) -> bool {
        postfix_status_says_running(params, config_dir, queue_dir, probe, env)
    }

    fn write_journal(&mut self, journal: &Path, content: &[u8]) -> Result<()> {
        write_atomically(journal, content)
    }

    fn remove_journal(&mut self, journal: &Path) {
        let _ = fs::remove_file(journal);
    }
}
