/* ocirun — sync (being written). */
