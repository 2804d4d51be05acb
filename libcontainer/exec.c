/* ocirun — exec (being written). */
