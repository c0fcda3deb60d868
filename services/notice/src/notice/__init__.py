"""The notice service: 通知カード / 個人番号通知書 mailing of the My Number platform."""
