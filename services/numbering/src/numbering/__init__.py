"""付番: the numbering service (住民票コード -> 個人番号), its registry, number changes and 符号."""
