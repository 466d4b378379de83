//! Whether SELinux is on: what `ss -Z`/`-z` first ask (libselinux's
//! is_selinux_enabled looks for the mounted selinuxfs; its `enforce` file
//! exists whenever a policy is loaded, enforcing or permissive).

use std::path::Path;

/// Where selinuxfs is mounted (security/selinux/selinuxfs.c).
pub const SELINUXFS: &str = "/sys/fs/selinux";

/// True when SELinux is on: selinuxfs is mounted with a policy loaded.
pub fn enabled() -> bool {
    Path::new(SELINUXFS).join("enforce").exists()
}
