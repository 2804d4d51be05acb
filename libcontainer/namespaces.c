/* ocirun — namespaces (being written). */
