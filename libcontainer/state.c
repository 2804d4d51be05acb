/* ocirun — state (being written). */
