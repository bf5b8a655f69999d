// Progressive enhancement only: every page works without this script.
import { initAll } from '/assets/nhsuk/nhsuk-frontend.min.js'
import './kb-drafts.js'
import './kb-cite-picker.js'

document.body.classList.add('js-enabled', 'nhsuk-frontend-supported')
initAll()

// Live preview: under every <textarea data-kb-preview>, the text as kb will show it, rendered by
// the server's one renderer (POST /preview) a moment after typing stops. The Preview button of
// each form does the same without this script.
const PREVIEW_DELAY_MS = 500

function csrfToken (form) {
  const input = (form && form.querySelector('input[name="csrf_token"]')) || document.querySelector('input[name="csrf_token"]')
  return input ? input.value : ''
}

function addLivePreview (textarea) {
  // A plain division, not a labelled region: the field's label stays the only thing named after it.
  const region = document.createElement('div')
  region.className = 'kb-live-preview'
  const heading = document.createElement('h2')
  heading.className = 'kb-live-preview__heading'
  heading.textContent = 'Preview'
  const label = document.createElement('span')
  label.className = 'nhsuk-u-visually-hidden'
  label.textContent = ` of ${textarea.dataset.kbPreview || 'the text'}`
  heading.append(label)
  const output = document.createElement('div')
  output.className = 'kb-prose kb-live-preview__body'
  output.setAttribute('aria-live', 'polite')
  region.append(heading, output)
  textarea.insertAdjacentElement('afterend', region)

  let timer = null
  let controller = null
  const say = (text) => {
    const line = document.createElement('p')
    line.className = 'kb-live-preview__note'
    line.textContent = text
    output.replaceChildren(line)
  }
  const update = async () => {
    if (controller) controller.abort()
    if (!textarea.value.trim()) {
      say('Nothing to preview yet.')
      return
    }
    controller = new AbortController()
    const body = new FormData()
    body.append('text', textarea.value)
    // A finding's editor says which finding it is and how many citations it has, for its note markers.
    const notes = textarea.form && textarea.form.dataset.kbNotes
    if (notes) {
      body.append('finding', textarea.form.dataset.kbFinding)
      body.append('notes', notes)
    }
    try {
      const response = await fetch('/preview', {
        method: 'POST',
        body,
        headers: { 'X-CSRFToken': csrfToken(textarea.form) },
        credentials: 'same-origin',
        redirect: 'manual',
        signal: controller.signal
      })
      const type = response.headers.get('Content-Type') || ''
      if (!response.ok) {
        const reason = type.startsWith('text/plain') ? ': ' + (await response.text()) : '.'
        say('Preview not available' + reason)
        return
      }
      const fragment = document.createElement('template')
      fragment.innerHTML = await response.text()
      // Ids belong to the saved page; in a preview they would repeat those of other previews.
      for (const element of fragment.content.querySelectorAll('[id]')) element.removeAttribute('id')
      output.replaceChildren(fragment.content)
    } catch (error) {
      if (error.name !== 'AbortError') say('Preview not available.')
    }
  }
  textarea.addEventListener('input', () => {
    clearTimeout(timer)
    timer = setTimeout(update, PREVIEW_DELAY_MS)
  })
  if (textarea.value.trim()) update()
  else say('Nothing to preview yet.')
}

document.querySelectorAll('textarea[data-kb-preview]').forEach(addLivePreview)

// A change that withdraws a finding's agreement says so above the Save button: with this script,
// once the text is changed (the warning is always shown without it, or when the form holds changes).
const WATCHED = new Set(['title', 'body', 'recommendations'])
for (const holder of document.querySelectorAll('[data-kb-agreement-warning="on-change"]')) {
  const warning = holder.firstElementChild
  const form = holder.closest('form')
  if (!warning || !form) continue
  warning.remove()
  form.addEventListener('input', (event) => {
    const waiting = holder.dataset.kbAgreementWarning === 'on-change'
    if (waiting && WATCHED.has(event.target.name) && !warning.isConnected) holder.append(warning)
  })
}
