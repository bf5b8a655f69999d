"""Ways in from outside: Atom feeds (public, or personal through a feed token), robots.txt and the sitemap.

`routes` answers the feeds, `queries` reads their items through the visibility rule,
`builder` writes Atom, `reader` finds who a feed is read as, `sitemap` answers robots.txt
and sitemap.xml, and `pages` gives templates absolute addresses and the feed links.
"""
