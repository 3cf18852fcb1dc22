//! Submission archives: `.zip` and `.tar.gz` (`.tgz`) in, and out for
//! `grader pack`.
//!
//! An archive is unpacked with the same care as student code (SPEC §4, §9):
//! every entry name is checked before anything is written (no absolute path,
//! no `..`, nothing that could land outside the scratch folder); links,
//! devices and other special entries refuse the whole archive rather than
//! being dropped quietly; the number of entries, the bytes declared and the
//! bytes written are capped, and sizes are enforced while reading, never
//! trusted from headers. Only folders and `.rs` files are written, since
//! intake reads nothing else: a student's clone with its `target/` or `.git`
//! costs a scan, not a copy. Files are created new (a duplicate entry
//! refuses the archive) with plain permissions, whatever the archive says.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Component, Path, PathBuf};

/// The archive formats a class folder may hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Zip,
    TarGz,
}

impl Kind {
    /// The student name and format of an archive file name, if it is one.
    pub fn of(file_name: &str) -> Option<(&str, Kind)> {
        let lower = file_name.to_ascii_lowercase();
        for (ext, kind) in [
            (".zip", Kind::Zip),
            (".tar.gz", Kind::TarGz),
            (".tgz", Kind::TarGz),
        ] {
            if lower.ends_with(ext) && file_name.len() > ext.len() {
                return Some((&file_name[..file_name.len() - ext.len()], kind));
            }
        }
        None
    }
}

/// Caps on one archive. A whole course clone is well inside them; a zip
/// bomb or a `target/` full of binaries is not.
pub const MAX_ARCHIVE_BYTES: u64 = 64 << 20;
pub const MAX_ENTRIES: usize = 20_000;
/// Sum of the sizes the entries declare (what decompression may cost).
pub const MAX_DECLARED_BYTES: u64 = 512 << 20;
/// `.rs` files written.
pub const MAX_FILES: usize = 2_000;
pub const MAX_FILE_BYTES: u64 = crate::submission::MAX_FILE_BYTES;
pub const MAX_WRITTEN_BYTES: u64 = 16 << 20;
const MAX_DEPTH: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum UnpackError {
    #[error("the archive is {0} bytes, more than the {MAX_ARCHIVE_BYTES}-byte limit")]
    ArchiveTooLarge(u64),
    #[error("entry `{0}` points outside the archive's folder")]
    Escape(String),
    #[error("entry `{0}` is a link; archives may not contain links")]
    Link(String),
    #[error("entry `{0}` is not a plain file or folder")]
    Special(String),
    #[error("more than {MAX_ENTRIES} entries")]
    TooManyEntries,
    #[error("more than {MAX_FILES} source files")]
    TooManyFiles,
    #[error("entry `{0}` is larger than {MAX_FILE_BYTES} bytes")]
    FileTooLarge(String),
    #[error("the entries add up to more than the size limit")]
    TooMuchData,
    #[error("entry `{0}` appears twice")]
    Duplicate(String),
    #[error("entry `{0}` is nested too deeply")]
    TooDeep(String),
    #[error("not a readable archive: {0}")]
    Malformed(String),
    #[error("cannot unpack: {0}")]
    Io(#[from] io::Error),
}

/// Unpacks `archive` into the empty folder `dest`; returns the number of
/// source files written.
pub fn unpack(archive: &Path, kind: Kind, dest: &Path) -> Result<usize, UnpackError> {
    let meta = fs::metadata(archive)?;
    if meta.len() > MAX_ARCHIVE_BYTES {
        return Err(UnpackError::ArchiveTooLarge(meta.len()));
    }
    let file = fs::File::open(archive)?;
    let mut sink = Sink::new(dest);
    match kind {
        Kind::Zip => unpack_zip(file, &mut sink)?,
        Kind::TarGz => unpack_tar(file, &mut sink)?,
    }
    Ok(sink.files)
}

fn unpack_zip(file: fs::File, sink: &mut Sink) -> Result<(), UnpackError> {
    let malformed = |e: zip::result::ZipError| UnpackError::Malformed(e.to_string());
    let mut zip = zip::ZipArchive::new(io::BufReader::new(file)).map_err(malformed)?;
    if zip.len() > MAX_ENTRIES {
        return Err(UnpackError::TooManyEntries);
    }
    for i in 0..zip.len() {
        let mut entry = zip.by_index(i).map_err(malformed)?;
        let name = entry.name().map_err(malformed)?.into_owned();
        // `enclosed_name` alone would accept `a/../b`; `checked` refuses any `..`.
        let rel = checked(&name)?;
        if entry.enclosed_name().is_none() {
            return Err(UnpackError::Escape(name));
        }
        if entry.is_symlink() {
            return Err(UnpackError::Link(name));
        }
        if let Some(mode) = entry.unix_mode() {
            let kind = mode & 0o170000;
            if kind != 0 && kind != 0o100000 && kind != 0o040000 {
                return Err(UnpackError::Special(name));
            }
        }
        sink.declare(entry.size())?;
        if entry.is_dir() {
            sink.dir(&rel)?;
        } else {
            sink.file(&name, &rel, &mut entry)?;
        }
    }
    Ok(())
}

fn unpack_tar(file: fs::File, sink: &mut Sink) -> Result<(), UnpackError> {
    let gz = flate2::read::GzDecoder::new(io::BufReader::new(file));
    let mut tar = tar::Archive::new(gz);
    let entries = tar
        .entries()
        .map_err(|e| UnpackError::Malformed(e.to_string()))?;
    for entry in entries {
        let mut entry = entry.map_err(|e| UnpackError::Malformed(e.to_string()))?;
        let name = String::from_utf8_lossy(&entry.path_bytes()).into_owned();
        let rel = checked(&name)?;
        let size = entry
            .header()
            .size()
            .map_err(|e| UnpackError::Malformed(e.to_string()))?;
        sink.declare(size)?;
        use tar::EntryType as T;
        match entry.header().entry_type() {
            T::Directory => sink.dir(&rel)?,
            T::Regular | T::Continuous => sink.file(&name, &rel, &mut entry)?,
            T::Symlink | T::Link => return Err(UnpackError::Link(name)),
            // Metadata records carry no file of their own.
            T::XGlobalHeader | T::XHeader | T::GNULongName | T::GNULongLink => {}
            _ => return Err(UnpackError::Special(name)),
        }
    }
    Ok(())
}

/// An entry name → a relative path of plain components, or why not.
fn checked(name: &str) -> Result<PathBuf, UnpackError> {
    if name.contains('\0') || name.contains('\\') {
        return Err(UnpackError::Escape(name.to_string()));
    }
    let mut rel = PathBuf::new();
    for c in Path::new(name).components() {
        match c {
            Component::Normal(part) => rel.push(part),
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => {
                return Err(UnpackError::Escape(name.to_string()));
            }
        }
    }
    if rel.components().count() > MAX_DEPTH {
        return Err(UnpackError::TooDeep(name.to_string()));
    }
    Ok(rel)
}

/// Where entries go, with the running totals the caps apply to.
struct Sink<'a> {
    dest: &'a Path,
    entries: usize,
    declared: u64,
    written: u64,
    files: usize,
}

impl<'a> Sink<'a> {
    fn new(dest: &'a Path) -> Sink<'a> {
        Sink {
            dest,
            entries: 0,
            declared: 0,
            written: 0,
            files: 0,
        }
    }

    fn declare(&mut self, size: u64) -> Result<(), UnpackError> {
        self.entries += 1;
        if self.entries > MAX_ENTRIES {
            return Err(UnpackError::TooManyEntries);
        }
        self.declared = self.declared.saturating_add(size);
        if self.declared > MAX_DECLARED_BYTES {
            return Err(UnpackError::TooMuchData);
        }
        Ok(())
    }

    fn dir(&mut self, rel: &Path) -> Result<(), UnpackError> {
        if rel.as_os_str().is_empty() {
            return Ok(());
        }
        fs::create_dir_all(self.dest.join(rel))?;
        Ok(())
    }

    fn file(&mut self, name: &str, rel: &Path, data: &mut impl Read) -> Result<(), UnpackError> {
        if rel.extension().is_none_or(|e| e != "rs") {
            // Not written, but its folder is: a folder of notes, or an
            // exercise folder with only a README, must be listed as skipped
            // as it is when the same folder is handed in unpacked. Hidden
            // folders and build output are passed over by discovery anyway.
            let plain = |c: Component| !matches!(c, Component::Normal(p) if p.to_string_lossy().starts_with('.') || p == "target");
            if let Some(parent) = rel.parent().filter(|p| p.components().all(plain)) {
                self.dir(parent)?;
            }
            return Ok(());
        }
        self.files += 1;
        if self.files > MAX_FILES {
            return Err(UnpackError::TooManyFiles);
        }
        let mut bytes = Vec::new();
        data.take(MAX_FILE_BYTES + 1).read_to_end(&mut bytes)?;
        if bytes.len() as u64 > MAX_FILE_BYTES {
            return Err(UnpackError::FileTooLarge(name.to_string()));
        }
        self.written += bytes.len() as u64;
        if self.written > MAX_WRITTEN_BYTES {
            return Err(UnpackError::TooMuchData);
        }
        let to = self.dest.join(rel);
        if let Some(parent) = to.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut f = match fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&to)
        {
            Ok(f) => f,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(UnpackError::Duplicate(name.to_string()));
            }
            Err(e) => return Err(e.into()),
        };
        f.write_all(&bytes)?;
        Ok(())
    }
}

/// Writes `files` (archive path, contents), in the given order, as an
/// archive of `kind`. Entries carry fixed times and permissions, so the same
/// sources always give the same bytes.
pub fn write(
    out: impl Write + io::Seek,
    kind: Kind,
    files: &[(String, Vec<u8>)],
) -> io::Result<()> {
    match kind {
        Kind::Zip => {
            let mut zip = zip::ZipWriter::new(out);
            let opts = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated)
                .last_modified_time(zip::DateTime::default())
                .unix_permissions(0o644);
            for (name, bytes) in files {
                zip.start_file(name.as_str(), opts)
                    .map_err(io::Error::other)?;
                zip.write_all(bytes)?;
            }
            zip.finish().map_err(io::Error::other)?;
        }
        Kind::TarGz => {
            let gz = flate2::write::GzEncoder::new(out, flate2::Compression::default());
            let mut tar = tar::Builder::new(gz);
            for (name, bytes) in files {
                let mut header = tar::Header::new_ustar();
                header.set_size(bytes.len() as u64);
                header.set_mode(0o644);
                // 2020-01-01: a fixed time keeps packs reproducible.
                header.set_mtime(1_577_836_800);
                header.set_entry_type(tar::EntryType::Regular);
                tar.append_data(&mut header, name, bytes.as_slice())?;
            }
            tar.into_inner()?.finish()?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names() {
        assert_eq!(Kind::of("alice.zip"), Some(("alice", Kind::Zip)));
        assert_eq!(Kind::of("bob.tar.gz"), Some(("bob", Kind::TarGz)));
        assert_eq!(Kind::of("c.TGZ"), Some(("c", Kind::TarGz)));
        assert_eq!(Kind::of(".zip"), None);
        assert_eq!(Kind::of("notes.txt"), None);
    }

    #[test]
    fn escaping_names_are_refused() {
        for bad in [
            "../x.rs",
            "a/../../x.rs",
            "/etc/x.rs",
            "a/../b.rs",
            "a\\..\\b.rs",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
        assert_eq!(checked("./a/b.rs").unwrap(), PathBuf::from("a/b.rs"));
    }

    fn zip_with(f: impl FnOnce(&mut zip::ZipWriter<fs::File>)) -> (tempfile::TempDir, PathBuf) {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join("a.zip");
        let mut zip = zip::ZipWriter::new(fs::File::create(&file).unwrap());
        f(&mut zip);
        zip.finish().unwrap();
        fs::create_dir(tmp.path().join("out")).unwrap();
        (tmp, file)
    }

    #[test]
    fn links_and_oversized_files_refuse_the_archive() {
        let opts = zip::write::SimpleFileOptions::default();
        let (tmp, file) = zip_with(|z| {
            z.add_symlink("01-x/src/main.rs", "/etc/passwd", opts)
                .unwrap();
        });
        let err = unpack(&file, Kind::Zip, &tmp.path().join("out")).unwrap_err();
        assert!(matches!(err, UnpackError::Link(_)), "{err}");
        let (tmp, file) = zip_with(|z| {
            z.start_file("01-x/src/main.rs", opts).unwrap();
            z.write_all(&vec![b'/'; MAX_FILE_BYTES as usize + 1])
                .unwrap();
        });
        let err = unpack(&file, Kind::Zip, &tmp.path().join("out")).unwrap_err();
        assert!(matches!(err, UnpackError::FileTooLarge(_)), "{err}");
        assert!(!tmp.path().join("out/01-x/src/main.rs").exists());
    }

    #[test]
    fn round_trip_both_formats() {
        for kind in [Kind::Zip, Kind::TarGz] {
            let tmp = tempfile::tempdir().unwrap();
            let file = tmp.path().join("a");
            let files = vec![
                (
                    "exercises/01-x/src/main.rs".to_string(),
                    b"fn main() {}\n".to_vec(),
                ),
                (
                    "exercises/01-x/README.md".to_string(),
                    b"not copied".to_vec(),
                ),
            ];
            write(fs::File::create(&file).unwrap(), kind, &files).unwrap();
            let dest = tmp.path().join("out");
            fs::create_dir(&dest).unwrap();
            assert_eq!(unpack(&file, kind, &dest).unwrap(), 1);
            let main = fs::read_to_string(dest.join("exercises/01-x/src/main.rs")).unwrap();
            assert_eq!(main, "fn main() {}\n");
            assert!(!dest.join("exercises/01-x/README.md").exists());
        }
    }
}
