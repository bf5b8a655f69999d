// Progressive enhancement only: every page works without this script.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js'
import './kb-drafts.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()

// On a narrow screen the search filters start folded, so the results come first.
const narrow = window.matchMedia('(max-width: 48.0525em)')
for (const filters of document.querySelectorAll('details.kb-facets-fold')) {
  if (narrow.matches) filters.open = false
}
