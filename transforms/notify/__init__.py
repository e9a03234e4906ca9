"""Notifications (信息传递及反馈): rendering notices and delivering them."""
