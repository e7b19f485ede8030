//! Opening the files postmulti reads and writes (main.cf, master.cf, the
//! prototypes, Postfix's scripts and lists, the files it stages): each
//! must be a regular file, and opening one never blocks.  open(2) of a
//! FIFO waits for the other end and a device may do anything, so every
//! file is opened with `O_NONBLOCK | O_NOCTTY` and checked with fstat(2)
//! before it is used; a FIFO or a device where a file belongs is refused
//! at once ("not a regular file"), and the action fails before it hangs.

use std::fs::{File, OpenOptions};
use std::io::{self, Read};
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;

use nix::fcntl::{FcntlArg, OFlag, fcntl};

/// The cause of a refusal: something other than a regular file (and other
/// than a directory, which has the C library's own words) where one belongs.
#[derive(Debug)]
struct NotRegular;

impl std::fmt::Display for NotRegular {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not a regular file")
    }
}

impl std::error::Error for NotRegular {}

/// The error of a FIFO, device or socket where a regular file belongs; its
/// text is "not a regular file".
pub fn not_regular() -> io::Error {
    io::Error::new(io::ErrorKind::InvalidInput, NotRegular)
}

/// Opens `path` as `options` say (their custom flags are replaced), never
/// blocking, and only if it is a regular file; the descriptor returned is
/// an ordinary blocking one.
pub fn open(path: &Path, options: &mut OpenOptions) -> io::Result<File> {
    let (file, _) = open_regular(path, options)?;
    // O_NONBLOCK means nothing for a regular file on Linux, but POSIX
    // leaves it unspecified: reads and writes are the ordinary ones.
    let flags = OFlag::from_bits_truncate(fcntl(&file, FcntlArg::F_GETFL)?);
    fcntl(&file, FcntlArg::F_SETFL(flags - OFlag::O_NONBLOCK))?;
    Ok(file)
}

/// The content of the regular file `path` (std::fs::read, never blocking).
/// It is read at once through the non-blocking descriptor, which Linux
/// reads as any other for a regular file, and with the size fstat(2) gave:
/// the iterator reads two files per instance this way, so no system call
/// beyond open, fstat, one read and close.
pub fn read(path: &Path) -> io::Result<Vec<u8>> {
    let (mut file, size) = open_regular(path, OpenOptions::new().read(true))?;
    read_sized(&mut file, size)
}

/// The rest of the open file `file`, which fstat(2) said holds `size`
/// bytes.  One read(2) of `size + 1` bytes that returns `size` has met the
/// end (a regular file reads short only there); std's read_to_end would
/// stat and seek again and read once more to see the end.  A file that has
/// grown or shrunk since is read on to its end.
pub fn read_sized(file: &mut File, size: u64) -> io::Result<Vec<u8>> {
    let expected = usize::try_from(size).unwrap_or(0);
    let mut content = vec![0; expected.saturating_add(1)];
    let got = loop {
        match file.read(&mut content) {
            Ok(got) => break got,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    };
    content.truncate(got);
    if got != expected {
        file.take(u64::MAX).read_to_end(&mut content)?;
    }
    Ok(content)
}

/// `path` opened with `O_NONBLOCK | O_NOCTTY`, if it is a regular file,
/// with its size.
fn open_regular(path: &Path, options: &mut OpenOptions) -> io::Result<(File, u64)> {
    let file = options
        .custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY)
        .open(path)
        // What a non-blocking open for writing of a FIFO without a reader,
        // or of a socket, fails with.
        .map_err(|e| match e.raw_os_error() {
            Some(libc::ENXIO) => not_regular(),
            _ => e,
        })?;
    let meta = file.metadata()?;
    let kind = meta.file_type();
    if kind.is_dir() {
        return Err(io::Error::from_raw_os_error(libc::EISDIR));
    }
    if !kind.is_file() {
        return Err(not_regular());
    }
    Ok((file, meta.len()))
}

/// Refuses a FIFO, device or socket at `path` (following symbolic links),
/// before a program that would wait on it is run; anything else, or
/// nothing at all, is that program's business.
pub fn refuse_special(path: &Path) -> io::Result<()> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let kind = meta.file_type();
            let special = kind.is_fifo()
                || kind.is_char_device()
                || kind.is_block_device()
                || kind.is_socket();
            if special { Err(not_regular()) } else { Ok(()) }
        }
        Err(_) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::strerror;
    use std::time::{Duration, Instant};

    fn fifo_in(dir: &tempfile::TempDir) -> std::path::PathBuf {
        let fifo = dir.path().join("main.cf");
        nix::unistd::mkfifo(&fifo, nix::sys::stat::Mode::from_bits_truncate(0o600)).unwrap();
        fifo
    }

    #[test]
    fn a_file_whose_size_changed_since_fstat_is_read_to_its_end() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("main.cf");
        std::fs::write(&file, b"a = 1\nb = 2\n").unwrap();
        assert_eq!(read(&file).unwrap(), b"a = 1\nb = 2\n");
        for stale_size in [0, 3, 12, 13, 100] {
            let mut opened = File::open(&file).unwrap();
            let content = read_sized(&mut opened, stale_size).unwrap();
            assert_eq!(content, b"a = 1\nb = 2\n", "size {stale_size}");
        }
    }

    #[test]
    fn a_fifo_is_refused_at_once_for_reading_and_for_writing() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = fifo_in(&dir);
        let started = Instant::now();
        let err = read(&fifo).unwrap_err();
        assert_eq!(strerror(&err), "not a regular file");
        let err = open(&fifo, OpenOptions::new().write(true).create(true)).unwrap_err();
        assert_eq!(strerror(&err), "not a regular file");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            strerror(&refuse_special(&fifo).unwrap_err()),
            "not a regular file"
        );
    }

    #[test]
    fn devices_and_directories_are_refused_regular_files_read() {
        let err = read(Path::new("/dev/zero")).unwrap_err();
        assert_eq!(strerror(&err), "not a regular file");
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path()).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EISDIR));
        let file = dir.path().join("main.cf");
        std::fs::write(&file, "a = 1\n").unwrap();
        assert_eq!(read(&file).unwrap(), b"a = 1\n");
        refuse_special(&file).unwrap();
        refuse_special(&dir.path().join("absent")).unwrap();
        let opened = open(&file, OpenOptions::new().append(true)).unwrap();
        let flags = OFlag::from_bits_truncate(fcntl(&opened, FcntlArg::F_GETFL).unwrap());
        assert!(!flags.contains(OFlag::O_NONBLOCK));
    }
}
