// Drafts kept on the server while a signed-in person types into a long form (see kb/drafts).
// The form is named by a status line kb puts above it (<p data-kb-autosave="form-id">); a moment
// after typing stops, its fields go to POST /drafts under the form's page, and the line says so.
// Without this script nothing is saved as one types, but a post that cannot be taken is still kept.
const AUTOSAVE_DELAY_MS = 2000

function snapshot (form, path) {
  const body = new FormData(form)
  // Files are never part of a draft; the page the draft belongs to is.
  for (const [name, value] of [...body.entries()]) {
    if (value instanceof File) body.delete(name)
  }
  body.set('path', path)
  return body
}

function addAutosave (status) {
  const form = document.getElementById(status.dataset.kbAutosave)
  const path = status.dataset.kbAutosavePath
  if (!form || !path) return
  const token = form.querySelector('input[name="csrf_token"]')
  let timer = null
  let saved = new URLSearchParams(snapshot(form, path)).toString()
  let sent = false

  const save = async () => {
    if (sent) return
    const body = snapshot(form, path)
    const text = new URLSearchParams(body).toString()
    if (text === saved) return
    try {
      const response = await fetch('/drafts', {
        method: 'POST',
        body,
        headers: { 'X-CSRFToken': token ? token.value : '', Accept: 'application/json' },
        credentials: 'same-origin',
        redirect: 'manual'
      })
      const type = response.headers.get('Content-Type') || ''
      const answer = type.startsWith('application/json') ? await response.json() : {}
      if (response.ok && answer.saved) {
        saved = text
        status.textContent = answer.message
      } else {
        status.textContent = answer.reason || 'Your draft could not be saved just now. Your text is still in the form.'
      }
    } catch (error) {
      status.textContent = 'Your draft could not be saved just now. Your text is still in the form.'
    }
  }
  const later = () => {
    clearTimeout(timer)
    timer = setTimeout(save, AUTOSAVE_DELAY_MS)
  }
  form.addEventListener('input', later)
  form.addEventListener('change', later)
  form.addEventListener('submit', () => {
    sent = true
    clearTimeout(timer)
  })
}

document.querySelectorAll('[data-kb-autosave]').forEach(addAutosave)
