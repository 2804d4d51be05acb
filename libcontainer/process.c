/* ocirun — process (being written). */
