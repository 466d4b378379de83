//! Which container a process runs in (lead's stub; replaced by the
//! containers module).

/// The container runtime named by a cgroup path.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Runtime {
    Docker,
    Containerd,
    CriO,
    Podman,
    Kubernetes,
    Nspawn,
    Lxc,
}

impl Runtime {
    pub fn as_str(self) -> &'static str {
        match self {
            Runtime::Docker => "docker",
            Runtime::Containerd => "containerd",
            Runtime::CriO => "cri-o",
            Runtime::Podman => "podman",
            Runtime::Kubernetes => "kubernetes",
            Runtime::Nspawn => "systemd-nspawn",
            Runtime::Lxc => "lxc",
        }
    }
}

/// A container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Container {
    pub runtime: Runtime,
    pub id: String,
    pub name: Option<String>,
    pub pod: Option<Pod>,
}

/// A Kubernetes pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pod {
    pub uid: String,
    pub name: Option<String>,
    pub namespace: Option<String>,
}

impl Container {
    pub fn short_id(&self) -> &str {
        self.id.get(..12).unwrap_or(&self.id)
    }
    pub fn label(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        if let Some(Pod {
            name: Some(name),
            namespace: Some(ns),
            ..
        }) = &self.pod
        {
            return format!("{ns}/{name}");
        }
        format!("{}:{}", self.runtime.as_str(), self.short_id())
    }
}
