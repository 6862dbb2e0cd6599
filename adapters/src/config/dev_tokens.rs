//! Development tokens: without `TWILIO_AUTH_TOKEN`, Bella makes a random Twilio token and admin
//! token once and keeps them in `BELLA_STATE_DIR`, one private file each, so that `bella call`
//! and the console can use them and no webhook is ever unsigned.

use std::path::{Path, PathBuf};

use rand::Rng as _;
use secrecy::SecretString;

use super::ConfigError;

/// `BELLA_STATE_DIR`, else `$XDG_STATE_HOME/bella`, else `~/.local/state/bella`, else `.bella`.
pub fn state_dir(lookup: &impl Fn(&str) -> Option<String>) -> PathBuf {
    if let Some(dir) = lookup("BELLA_STATE_DIR") {
        return PathBuf::from(dir);
    }
    if let Some(dir) = lookup("XDG_STATE_HOME") {
        return Path::new(&dir).join("bella");
    }
    match lookup("HOME") {
        Some(home) => Path::new(&home).join(".local/state/bella"),
        None => PathBuf::from(".bella"),
    }
}

/// Tokens generated for local development, one file each, readable by the owner only.
#[derive(Debug)]
pub struct DevTokens {
    pub twilio_auth_token: SecretString,
    pub admin_token: SecretString,
}

impl DevTokens {
    const TWILIO: &'static str = "twilio-auth-token";
    const ADMIN: &'static str = "admin-token";

    /// The tokens kept in `dir`, made on first use. The directory is private to its owner
    /// (0700) and each file too (0600, tightened if it was not); a token file that is a symbolic
    /// link is refused (it could point anywhere); two processes starting at once settle on the
    /// same tokens (each file appears whole, once).
    pub fn load_or_create(dir: &Path) -> Result<Self, ConfigError> {
        let io = |source| ConfigError::StateDir { path: dir.to_owned(), source };
        private_dir(dir).map_err(io)?;
        Ok(Self {
            twilio_auth_token: read_or_create(&dir.join(Self::TWILIO)).map_err(io)?,
            admin_token: read_or_create(&dir.join(Self::ADMIN)).map_err(io)?,
        })
    }

    /// The development tokens if they exist, for `bella call` and the admin CLI.
    pub fn load(dir: &Path) -> Option<Self> {
        let read = |name| read_existing(&dir.join(name)).ok().flatten();
        Some(Self { twilio_auth_token: read(Self::TWILIO)?, admin_token: read(Self::ADMIN)? })
    }

    pub fn admin_token_path(dir: &Path) -> PathBuf {
        dir.join(Self::ADMIN)
    }
}

#[cfg(unix)]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
    // Created private; a directory that exists already is left as it is (it may be $HOME, or
    // shared): the token files in it are private whatever the directory.
    if std::fs::symlink_metadata(dir).is_err() {
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir)?;
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)
}

/// The token in `path`, if there is one: refused if the file is a symbolic link, made private if
/// it was readable by others.
fn read_existing(path: &Path) -> std::io::Result<Option<SecretString>> {
    let meta = match std::fs::symlink_metadata(path) {
        Ok(meta) => meta,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    if meta.file_type().is_symlink() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("{} is a symbolic link; a token is kept only in a regular file", path.display()),
        ));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if meta.permissions().mode() & 0o077 != 0 {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600))?;
        }
    }
    let token = std::fs::read_to_string(path)?;
    let token = token.trim();
    Ok((!token.is_empty()).then(|| SecretString::from(token.to_owned())))
}

/// The token in `path`, or a new one written there. The new token is written whole to a private
/// file of its own, then linked into place, which fails if another process got there first: the
/// loser reads the winner's token.
fn read_or_create(path: &Path) -> std::io::Result<SecretString> {
    for _ in 0..3 {
        if let Some(token) = read_existing(path)? {
            return Ok(token);
        }
        if let Ok(meta) = std::fs::symlink_metadata(path) {
            // An empty file (left by an interrupted older version) is replaced; a file with a
            // token in it appeared since the read above (another process won): read it.
            if meta.len() == 0 {
                match std::fs::remove_file(path) {
                    Ok(()) => {}
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
                    Err(error) => return Err(error),
                }
            }
            continue;
        }
        let mut bytes = [0u8; 16];
        rand::rng().fill(&mut bytes);
        let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let temporary = path.with_extension(format!("new-{}-{:08x}", std::process::id(), rand::rng().random::<u32>()));
        write_private(&temporary, &token)?;
        let linked = match std::fs::hard_link(&temporary, path) {
            // A file system without hard links: a rename, which two processes starting together
            // could both win (the second token then replaces the first, once).
            Err(error)
                if error.kind() != std::io::ErrorKind::AlreadyExists && std::fs::symlink_metadata(path).is_err() =>
            {
                std::fs::rename(&temporary, path)
            }
            linked => linked,
        };
        let _ = std::fs::remove_file(&temporary);
        match linked {
            Ok(()) => return Ok(SecretString::from(token)),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(error) => return Err(error),
        }
    }
    read_existing(path)?.ok_or_else(|| std::io::Error::other(format!("cannot settle a token in {}", path.display())))
}

/// A new file, readable by its owner only, created exclusively (never through a link).
#[cfg(unix)]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).mode(0o600).open(path)?;
    file.write_all(contents.as_bytes())?;
    file.sync_all()
}

#[cfg(not(unix))]
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(contents.as_bytes())
}
