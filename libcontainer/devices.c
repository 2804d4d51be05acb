/* ocirun — devices (being written). */
