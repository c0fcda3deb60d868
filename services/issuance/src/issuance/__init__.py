"""個人番号カード issuance: applications (this slice), then personalisation, hand-over and the card's life."""
