"""Identity: normalisation of identity fields and linking records to consumers."""
