"""The WeChat Official Account (公众号) customer-service API: client, errcodes, rules, emulator."""
