//! `--parallel[=N]`: runs `-p`'s children concurrently, at most N at a
//! time, without giving up postmulti's ordering promise.  The instances
//! of one group run together; groups (an ungrouped instance is a group of
//! its own) follow each other in the order the sequential run meets them.
//! Each child's output is held back and printed whole, in the sequential
//! order, so the bytes are those of a run without the option.

use std::ffi::CString;
use std::os::unix::ffi::OsStrExt;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
use nix::unistd::Pid;

use super::Child;
use super::capture::{Channels, Layout, Read};
use crate::error::Result;
use crate::sys::{self, ChildEnd, Outputs};
use crate::{diag, msg};

/// How long the output of a child that has ended may keep coming: longer
/// means something it started holds the channel, and is not waited for.
const LINGER_MS: u16 = 100;
const LINGER: Duration = Duration::from_millis(LINGER_MS as u64);

/// Where one child of the run stands, as far as printing goes.
enum Output {
    Awaited,
    Ready(Channels),
    /// No child could be started: nothing to print.
    Nothing,
}

/// One child of the run, from start to printed output.
struct Job {
    pid: Pid,
    channels: Channels,
    ended: Option<(ChildEnd, Instant)>,
}

/// Runs `children` (in the sequential order, each with its group) in
/// batches of one group, at most `limit` at a time; whether each exited 0,
/// in the same order.
pub fn run(children: Vec<(Child, Option<Vec<u8>>)>, limit: usize) -> Result<Vec<bool>> {
    let layout = Layout::of_this_process();
    let mut succeeded = vec![false; children.len()];
    let mut printed = 0;
    let mut outputs: Vec<Output> = (0..children.len()).map(|_| Output::Awaited).collect();
    for batch in batches(&children) {
        let mut waiting = batch.into_iter();
        let mut running: Vec<(usize, Job)> = Vec::new();
        loop {
            while running.len() < limit {
                let Some(index) = waiting.next() else { break };
                match start(&children[index].0, layout)? {
                    Some(job) => running.push((index, job)),
                    None => outputs[index] = Output::Nothing,
                }
            }
            if running.is_empty() {
                break;
            }
            wait_for_output(&mut running);
            let mut still_running = Vec::new();
            for (index, mut job) in running {
                match job.finished() {
                    Some(end) => {
                        succeeded[index] = end == ChildEnd::Exited(0);
                        outputs[index] = Output::Ready(job.channels);
                    }
                    None => still_running.push((index, job)),
                }
            }
            running = still_running;
            print_ready(&mut outputs, &mut printed);
        }
        print_ready(&mut outputs, &mut printed);
    }
    Ok(succeeded)
}

/// Prints the outputs from `printed` on, up to the first still awaited.
fn print_ready(outputs: &mut [Output], printed: &mut usize) {
    while let Some(output) = outputs.get_mut(*printed) {
        match std::mem::replace(output, Output::Awaited) {
            Output::Awaited => return,
            Output::Ready(channels) => channels.print(),
            Output::Nothing => {}
        }
        *printed += 1;
    }
}

/// The children's indices, grouped: one batch per group, the batches in
/// the order their first member comes, each in the children's order.
fn batches(children: &[(Child, Option<Vec<u8>>)]) -> Vec<Vec<usize>> {
    let mut batches: Vec<(Option<&[u8]>, Vec<usize>)> = Vec::new();
    for (index, (_, group)) in children.iter().enumerate() {
        let group = group.as_deref();
        match batches
            .iter_mut()
            .find(|(g, _)| group.is_some() && *g == group)
        {
            Some((_, members)) => members.push(index),
            None => batches.push((group, vec![index])),
        }
    }
    batches.into_iter().map(|(_, members)| members).collect()
}

/// Starts one child; `None` (with the warning the sequential run gives)
/// when no process could be made.
fn start(child: &Child, layout: Layout) -> Result<Option<Job>> {
    let program = child.argv[0].as_bytes();
    let mut channels = layout.channels()?;
    let Ok(argv) = child
        .argv
        .iter()
        .map(|a| CString::new(a.as_bytes()))
        .collect::<std::result::Result<Vec<_>, _>>()
    else {
        return Ok(None);
    };
    let report = |err: Errno| {
        diag::log(
            diag::Level::Fatal,
            &msg!(b"execvp ", program, b": ", err.desc()),
        );
    };
    let stdout = channels.stdout.child_end();
    let stderr = channels.stderr.as_ref().map_or(stdout, |c| c.child_end());
    let started = sys::start_child(&argv, &child.env, Outputs { stdout, stderr }, &report);
    channels.iter_mut().for_each(|c| c.child_started());
    match started {
        Ok(pid) => Ok(Some(Job {
            pid,
            channels,
            ended: None,
        })),
        Err(err) => {
            diag::warn(&msg!(b"fork ", program, b": ", err.desc()));
            Ok(None)
        }
    }
}

/// Waits until a running child writes, closes its output, or may have
/// ended, and collects what was written.
fn wait_for_output(running: &mut [(usize, Job)]) {
    let mut fds = Vec::new();
    for (_, job) in running.iter() {
        for channel in std::iter::once(&job.channels.stdout).chain(&job.channels.stderr) {
            if let Some(fd) = channel.reader() {
                fds.push(PollFd::new(fd, PollFlags::POLLIN));
            }
        }
    }
    // Without SIGCHLD handling, an ended child whose output something else
    // still holds is noticed on the next timeout.
    let _ = poll(&mut fds, PollTimeout::from(LINGER_MS));
    drop(fds);
    for (_, job) in running.iter_mut() {
        for channel in job.channels.iter_mut() {
            if channel.read_available() == Read::Data
                && let Some((end, _)) = job.ended
            {
                job.ended = Some((end, Instant::now()));
            }
        }
    }
}

impl Job {
    /// How the child ended, once it has and its output is complete.
    fn finished(&mut self) -> Option<ChildEnd> {
        let open = self.channels.iter_mut().any(|c| c.is_open());
        if self.ended.is_none() {
            let end = if open {
                sys::child_ended(self.pid)
            } else {
                sys::wait_for(self.pid).map(Some)
            };
            match end {
                Ok(Some(end)) => self.ended = Some((end, Instant::now())),
                Ok(None) => return None,
                Err(_) => self.ended = Some((ChildEnd::Killed, Instant::now())),
            }
        }
        let (end, since) = self.ended?;
        if open && since.elapsed() < LINGER {
            return None;
        }
        self.channels.iter_mut().for_each(|c| c.close());
        Some(end)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;

    fn child(group: Option<&str>) -> (Child, Option<Vec<u8>>) {
        let child = Child {
            argv: vec![OsString::from("true")],
            env: Vec::new(),
        };
        (child, group.map(|g| g.as_bytes().to_vec()))
    }

    #[test]
    fn groups_run_together_in_the_order_they_are_met() {
        let children = vec![
            child(Some("mta")),
            child(None),
            child(Some("out")),
            child(Some("mta")),
            child(None),
            child(Some("out")),
        ];
        assert_eq!(
            batches(&children),
            vec![vec![0, 3], vec![1], vec![2, 5], vec![4]]
        );
    }
}
