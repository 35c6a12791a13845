"""The key hierarchy: members' sealed seeds, the signed roster, vault and collection secrets."""
