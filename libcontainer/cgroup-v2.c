/* ocirun — cgroup-v2 (being written). */
