/* ocirun — mount-options (being written). */
