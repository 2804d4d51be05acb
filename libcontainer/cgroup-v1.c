/* ocirun — cgroup-v1 (being written). */
