"""Personal data at rest: encryption of fields, blind indexes, key rotation and retention."""
