"""Point-in-time snapshots of the credit file and the features computed from them."""
