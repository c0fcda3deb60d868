"""公的個人認証 (JPKI): the 署名用 and 利用者証明用 certification authorities of the My Number platform."""
