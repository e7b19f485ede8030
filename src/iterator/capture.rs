//! Where a child run under `--parallel` writes, so that its output can be
//! held back and printed whole, in list order: a pipe, or a pseudo-terminal
//! where our own descriptor is a terminal, because postfix(1) and its
//! helpers log to stderr only when it is one.  Whether the child gets one
//! channel for both streams (ours go to the same file, so their
//! interleaving shows) or one each is decided once per run.

use std::io::Write;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use nix::errno::Errno;
use nix::fcntl::{FcntlArg, FdFlag, OFlag, fcntl};
use nix::sys::stat::fstat;
use nix::sys::termios::{OutputFlags, SetArg, tcgetattr, tcsetattr};

use crate::error::{Error, Result};

/// What one of our output descriptors is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Terminal,
    Other,
}

/// How a run's children are given their standard output and error.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// Our stdout and stderr are the same file: one channel, printed on
    /// stdout.
    Shared(Kind),
    Separate {
        stdout: Kind,
        stderr: Kind,
    },
}

impl Layout {
    /// The layout that reproduces, for this process's stdout and stderr,
    /// what a child writing to them directly would leave.
    pub fn of_this_process() -> Layout {
        let (out, err) = (std::io::stdout(), std::io::stderr());
        let kind = |fd: BorrowedFd| {
            if nix::unistd::isatty(fd).unwrap_or(false) {
                Kind::Terminal
            } else {
                Kind::Other
            }
        };
        let same_file = match (fstat(out.as_fd()), fstat(err.as_fd())) {
            (Ok(a), Ok(b)) => {
                a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_rdev == b.st_rdev
            }
            _ => false,
        };
        if same_file {
            Layout::Shared(kind(out.as_fd()))
        } else {
            Layout::Separate {
                stdout: kind(out.as_fd()),
                stderr: kind(err.as_fd()),
            }
        }
    }

    /// The channels for one child.
    pub fn channels(self) -> Result<Channels> {
        Ok(match self {
            Layout::Shared(kind) => Channels {
                stdout: Channel::new(kind)?,
                stderr: None,
            },
            Layout::Separate { stdout, stderr } => Channels {
                stdout: Channel::new(stdout)?,
                stderr: Some(Channel::new(stderr)?),
            },
        })
    }
}

/// One stream of one child: the end we read, the end the child writes
/// (dropped once the child has it), and what has been read so far.
#[derive(Debug)]
pub struct Channel {
    reader: Option<OwnedFd>,
    writer: Option<OwnedFd>,
    pub output: Vec<u8>,
}

/// A child's channels; `stderr` is `None` when both streams share one.
#[derive(Debug)]
pub struct Channels {
    pub stdout: Channel,
    pub stderr: Option<Channel>,
}

/// What reading a channel found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Read {
    Data,
    Nothing,
    End,
}

impl Channel {
    fn new(kind: Kind) -> Result<Channel> {
        let (reader, writer) = match kind {
            Kind::Other => nix::unistd::pipe2(OFlag::O_CLOEXEC)
                .map_err(|err| Error::io("create", b"a pipe", err.into()))?,
            Kind::Terminal => {
                let pty = nix::pty::openpty(None, None)
                    .map_err(|err| Error::io("open", b"a pseudo-terminal", err.into()))?;
                // Our own terminal turns newlines into CR LF when we print;
                // this one must pass the bytes through as written.
                if let Ok(mut modes) = tcgetattr(&pty.slave) {
                    modes.output_flags.remove(OutputFlags::OPOST);
                    let _ = tcsetattr(&pty.slave, SetArg::TCSANOW, &modes);
                }
                (pty.master, pty.slave)
            }
        };
        for fd in [&reader, &writer] {
            fcntl(fd, FcntlArg::F_SETFD(FdFlag::FD_CLOEXEC))
                .map_err(|err| Error::io("configure", b"a child's output channel", err.into()))?;
        }
        let flags = fcntl(&reader, FcntlArg::F_GETFL)
            .map_err(|err| Error::io("configure", b"a child's output channel", err.into()))?;
        fcntl(
            &reader,
            FcntlArg::F_SETFL(OFlag::from_bits_truncate(flags) | OFlag::O_NONBLOCK),
        )
        .map_err(|err| Error::io("configure", b"a child's output channel", err.into()))?;
        Ok(Channel {
            reader: Some(reader),
            writer: Some(writer),
            output: Vec::new(),
        })
    }

    /// The end the child writes to.
    pub fn child_end(&self) -> BorrowedFd<'_> {
        self.writer
            .as_ref()
            .expect("the child's end is kept until the child is started")
            .as_fd()
    }

    /// Drops our copy of the child's end, so that the end of the child's
    /// output shows as the end of the channel.
    pub fn child_started(&mut self) {
        self.writer = None;
    }

    pub fn reader(&self) -> Option<BorrowedFd<'_>> {
        self.reader.as_ref().map(|fd| fd.as_fd())
    }

    /// Reads what is there, never waiting.
    pub fn read_available(&mut self) -> Read {
        let Some(reader) = &self.reader else {
            return Read::End;
        };
        let mut found = Read::Nothing;
        let mut buffer = [0u8; 16384];
        loop {
            match nix::unistd::read(reader, &mut buffer) {
                Ok(0) => break,
                Ok(n) => {
                    self.output.extend_from_slice(&buffer[..n]);
                    found = Read::Data;
                }
                Err(Errno::EINTR) => continue,
                Err(Errno::EAGAIN) => return found,
                // A pseudo-terminal whose other side is closed says EIO.
                Err(_) => break,
            }
        }
        self.reader = None;
        if found == Read::Data {
            Read::Data
        } else {
            Read::End
        }
    }

    /// Gives up on the rest (something the child left behind still holds
    /// the other end).
    pub fn close(&mut self) {
        self.reader = None;
    }

    pub fn is_open(&self) -> bool {
        self.reader.is_some()
    }
}

impl Channels {
    pub fn iter_mut(&mut self) -> impl Iterator<Item = &mut Channel> {
        std::iter::once(&mut self.stdout).chain(self.stderr.as_mut())
    }

    /// Prints what the child wrote, where it would have written it.
    pub fn print(&self) {
        let _ = std::io::stdout().write_all(&self.stdout.output);
        let _ = std::io::stdout().flush();
        if let Some(stderr) = &self.stderr {
            let _ = std::io::stderr().write_all(&stderr.output);
        }
    }
}
