// The finding editor's citation picker (see kb/panels/picker_routes.py). "Cite evidence at the cursor"
// opens a dialog: search, choose a lesson, paper, paragraph, page, comment or response, and the
// finding cites it and its note marker [^N] is typed into the text where the cursor was.
// Without this script the editor links to the cite pages and lists the notes to type by hand.

function csrfToken (form) {
  const input = form.querySelector('input[name="csrf_token"]') || document.querySelector('input[name="csrf_token"]')
  return input ? input.value : ''
}

function fragment (html) {
  const template = document.createElement('template')
  template.innerHTML = html
  return template.content
}

function addPicker (dialog) {
  const editor = document.getElementById('merged-form')
  const button = document.querySelector(`[data-kb-picker-button="${dialog.id}"]`)
  const fields = ['body', 'recommendations'].map((id) => document.getElementById(id)).filter(Boolean)
  if (!editor || !button || !fields.length) return
  const results = dialog.querySelector('[data-kb-picker-results]')
  const search = dialog.querySelector('[data-kb-picker-search]')
  const query = search.querySelector('input[name="q"]')
  const said = document.querySelector('[data-kb-picker-said]')
  const list = document.querySelector('[data-kb-notes-list]')
  const link = document.querySelector('[data-kb-picker-link]')
  if (link) link.parentElement.hidden = true
  button.hidden = false

  // The text the marker goes into: the one last typed in (the finding's text to begin with).
  let field = fields[0]
  let start = field.value.length
  let end = start
  let listed = null
  for (const each of fields) each.addEventListener('focus', () => { field = each })

  const show = (content, focusHeading) => {
    results.replaceChildren(content)
    const heading = results.querySelector('.kb-picker__heading')
    if (focusHeading && heading) heading.focus()
  }
  const say = (text, error) => {
    const line = document.createElement('p')
    line.className = error ? 'nhsuk-error-message' : 'kb-picker__status'
    line.textContent = text
    results.prepend(line)
  }
  const load = async (url, focusHeading) => {
    try {
      const response = await fetch(url, { credentials: 'same-origin', redirect: 'manual' })
      if (!response.ok) {
        say('That could not be loaded. Try again, or use the cite pages.', true)
        return
      }
      show(fragment(await response.text()), focusHeading)
    } catch (error) {
      say('That could not be loaded. Try again, or use the cite pages.', true)
    }
  }

  button.addEventListener('click', () => {
    start = field.selectionStart
    end = field.selectionEnd
    dialog.showModal()
    query.focus()
    if (!results.childElementCount) load(dialog.dataset.kbPicker, false)
  })
  dialog.querySelector('[data-kb-picker-close]').addEventListener('click', () => dialog.close())
  dialog.addEventListener('close', () => {
    field.focus()
    field.setSelectionRange(start, end)
  })

  search.addEventListener('submit', (event) => {
    event.preventDefault()
    listed = null
    const url = new URL(dialog.dataset.kbPicker, window.location.href)
    url.searchParams.set('q', query.value)
    load(url, true)
  })

  results.addEventListener('click', (event) => {
    const opener = event.target.closest('[data-kb-picker-open]')
    if (opener) {
      listed = [...results.childNodes]
      load(opener.dataset.kbPickerOpen, true)
      return
    }
    if (event.target.closest('[data-kb-picker-back]')) {
      if (listed) results.replaceChildren(...listed)
      listed = null
      query.focus()
    }
  })

  results.addEventListener('submit', async (event) => {
    const form = event.target
    event.preventDefault()
    let answer = null
    try {
      const response = await fetch(dialog.dataset.kbPickerCite, {
        method: 'POST',
        body: new FormData(form),
        headers: { 'X-CSRFToken': csrfToken(form), Accept: 'application/json' },
        credentials: 'same-origin',
        redirect: 'manual'
      })
      answer = await response.json()
      if (!response.ok) {
        say(answer.error || 'That could not be cited.', true)
        return
      }
    } catch (error) {
      say('That could not be cited. Try again, or use the cite pages.', true)
      return
    }
    const marker = answer.marker
    field.setRangeText(marker, start, end, 'end')
    start = end = field.selectionStart
    editor.dataset.kbNotes = String(answer.number)
    if (list) {
      const item = document.createElement('li')
      const code = document.createElement('code')
      code.textContent = marker
      item.append(code, ' ', form.dataset.kbLabel || 'Cited')
      list.append(item)
      const empty = document.querySelector('[data-kb-notes-empty]')
      if (empty) empty.hidden = true
    }
    if (answer.reopened) {
      // Citing has already withdrawn agreement, so saving the text no longer does: the warnings go.
      for (const holder of document.querySelectorAll('[data-kb-agreement-warning]')) {
        holder.dataset.kbAgreementWarning = 'withdrawn'
        holder.replaceChildren()
      }
      for (const warning of dialog.querySelectorAll('.kb-agreement-warning')) warning.remove()
    }
    dialog.close()
    if (said) {
      const again = answer.reopened ? ` Agreement on finding ${answer.finding} is withdrawn: it needs agreeing again.` : ''
      said.textContent = `Cited as note ${answer.number}: ${marker} is in the text at the cursor.${again}`
    }
    // The live preview, the autosave and the warning follow the text as if it were typed.
    field.dispatchEvent(new Event('input', { bubbles: true }))
  })
}

document.querySelectorAll('dialog[data-kb-picker]').forEach(addPicker)
