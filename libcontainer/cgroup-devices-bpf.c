/* ocirun — cgroup-devices-bpf (being written). */
