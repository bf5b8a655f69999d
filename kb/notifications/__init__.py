"""Following entries, themes and reviews; in-app notifications; mail now and in a daily digest."""
