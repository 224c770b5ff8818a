// The browser softphone: every action is one POST; the server plays Twilio and answers with the
// call's state and what happened (events). Speech synthesis is a nicety, never required.
(function () {
  const $ = (sel) => document.querySelector(sel);
  const root = $('.softphone');
  if (!root) return;
  const base = root.dataset.base;
  const texts = JSON.parse($('#softphone-texts').textContent);
  let call = null;      // the last call view from the server
  let busy = false;
  let inboxTimer = null;
  let inboxSeen = '';   // what the inbox list shows now

  const t = (key, values) => (texts[key] || key).replace(/\{(\w+)\}/g, (_, name) =>
    values && values[name] !== undefined ? values[name] : '');

  // --- speech ---------------------------------------------------------------------------------
  function speak(text, language) {
    if (!('speechSynthesis' in window) || !$('#speech').checked) return;
    const lang = /^cmn|^zh/i.test(language || '') ? 'zh-CN' : (language || 'zh-CN');
    const voices = window.speechSynthesis.getVoices();
    const voice = voices.find((v) => v.lang && v.lang.replace('_', '-').toLowerCase().startsWith(lang.toLowerCase()));
    // Without a voice for the language the browser would read Chinese with a wrong one: stay silent.
    if (voices.length && !voice) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.lang = lang;
    utterance.rate = 0.9;
    if (voice) utterance.voice = voice;
    window.speechSynthesis.speak(utterance);
  }

  // --- the call log -----------------------------------------------------------------------------
  function line(text, cls) {
    const li = document.createElement('li');
    li.className = cls;
    li.textContent = text;
    $('#prompts').appendChild(li);
    li.scrollIntoView({block: 'nearest'});
    return li;
  }

  function show(event) {
    switch (event.kind) {
      case 'say': {
        const li = line(event.text, 'prompt');
        li.lang = 'zh-CN';
        speak(event.text, event.language);
        break;
      }
      case 'key': line(t('you_pressed', event), 'key'); break;
      case 'ignored_key': line(t('key_ignored', event), 'key muted'); break;
      case 'silence': line(t('silence_event'), 'key muted'); break;
      case 'officer_say': line(t('officer_hears', {who: event.number, text: event.text}), 'officer'); break;
      case 'officer_key': line(t('officer_pressed', {who: event.number, digits: event.digits}), 'officer'); break;
      case 'ringing': line(t('ringing', {who: event.numbers.join('、')}), 'event'); break;
      case 'connected': line(t('connected', {who: event.number}), 'event'); break;
      case 'leg_hangup': line(t('leg_hangup', {who: event.number}), 'event'); break;
      case 'recorded': line(t('recorded', event), 'event'); break;
      case 'caller_hangup': line(t('caller_hangup'), 'event'); break;
      case 'answered': line(t('answered', {who: event.number}), 'event'); break;
      case 'ended': line(t('ended', event), 'event ended'); break;
      case 'unsupported': line(t('unsupported', event), 'event muted'); break;
      default: line(t('note', event), 'event muted');
    }
  }

  // --- state ------------------------------------------------------------------------------------
  function render() {
    const state = $('#call-state');
    const waiting = call && call.status !== 'completed' ? call.waiting : null;
    const live = !!waiting;
    let text = t('state_idle');
    let name = 'idle';
    if (busy) { text = t('state_busy'); name = 'busy'; }
    else if (call && !live) { text = t('state_ended'); name = 'ended'; }
    else if (waiting === 'gather') { text = t('state_gather') + (call.digits ? ` · ${call.digits}` : ''); name = 'gather'; }
    else if (waiting === 'dial') { text = t('state_dial', {who: call.numbers.join('、')}); name = 'dial'; }
    else if (waiting === 'record') { text = t('state_record', {seconds: call.max_length}); name = 'record'; }
    state.textContent = text;
    state.dataset.state = name;
    document.querySelectorAll('[data-key]').forEach((b) => { b.disabled = busy || !live; });
    $('#hangup').disabled = busy || !live;
    $('#call-start').disabled = busy || live;
    document.querySelectorAll('#sms-inbox .answer-call').forEach((b) => { b.disabled = busy || live; });
    document.querySelectorAll('[data-when]').forEach((el) => {
      el.hidden = !live || !el.dataset.when.split(' ').includes(waiting);
      el.querySelectorAll('button').forEach((b) => { b.disabled = busy; });
      if (el.tagName === 'BUTTON') el.disabled = busy;
    });
    if (waiting === 'dial') {
      const select = $('#dial-who');
      select.replaceChildren(...call.numbers.map((label, index) => new Option(label, index)));
      $('#dial-who-label').hidden = call.numbers.length < 2;
    }
  }

  async function act(path, fields) {
    if (busy) return;
    busy = true;
    render();
    const error = $('#call-error');
    error.hidden = true;
    try {
      const resp = await hotline.post(base + path, fields);
      const data = await resp.json().catch(() => ({error: resp.statusText}));
      if (!resp.ok) {
        error.textContent = data.error || resp.statusText;
        error.hidden = false;
        if (resp.status === 409) call = null;
        return;
      }
      call = data.call;
      data.events.forEach(show);
    } finally {
      busy = false;
      render();
    }
  }

  function newCall() {
    if ('speechSynthesis' in window) window.speechSynthesis.cancel();
    $('#prompts').replaceChildren();
    call = null;
  }

  $('#call-start').addEventListener('click', () => {
    newCall();
    act('call', {line: $('#line').value, caller: $('#caller').value});
  });
  document.querySelectorAll('[data-key]').forEach((button) => button.addEventListener('click', () => {
    if ('speechSynthesis' in window) window.speechSynthesis.cancel();  // a key press cuts the prompt, as on a phone
    if (call) act(`call/${call.sid}/keys`, {keys: button.dataset.key});
  }));
  $('#hangup').addEventListener('click', () => {
    if ('speechSynthesis' in window) window.speechSynthesis.cancel();
    if (call) act(`call/${call.sid}/hangup`, {});
  });
  $('#call-silence').addEventListener('click', () => call && act(`call/${call.sid}/silence`, {}));
  $('#record-message').addEventListener('click', () => call && act(`call/${call.sid}/record`, {}));
  document.querySelectorAll('#dial-actions [data-outcome]').forEach((button) => button.addEventListener('click', () => {
    if (call) act(`call/${call.sid}/dial`, {outcome: button.dataset.outcome, index: $('#dial-who').value || '0'});
  }));
  document.addEventListener('keydown', (e) => {
    // The keyboard's digits work as the keypad when no field has the focus.
    if (e.target.closest('input, textarea, select')) return;
    const button = document.querySelector(`[data-key="${CSS.escape(e.key)}"]`);
    if (button && !button.disabled) button.click();
  });

  // --- the technician's / officer's mobile ---------------------------------------------------------
  function item(list, cls, text, meta) {
    const li = document.createElement('li');
    li.className = cls;
    if (meta) {
      const small = document.createElement('span');
      small.className = 'muted meta';
      small.textContent = meta;
      li.appendChild(small);
    }
    li.appendChild(document.createTextNode(text));
    list.appendChild(li);
    return li;
  }

  // A call the hotline placed to this number can be picked up once; it then plays in the call panel.
  function answerControl(li, m) {
    li.dataset.messageId = m.id;
    if (m.answered) {
      li.classList.add('answered');
      const badge = document.createElement('span');
      badge.className = 'badge answered-badge';
      badge.textContent = t('answered_badge');
      li.appendChild(badge);
    } else if (m.answerable) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'answer-call';
      button.dataset.messageId = m.id;
      button.textContent = t('answer');
      button.disabled = busy || !!(call && call.status !== 'completed' && call.waiting);
      button.addEventListener('click', async () => {
        newCall();
        await act('call/answer', {message_id: String(m.id)});
        refreshInbox();
      });
      li.appendChild(button);
    }
  }

  async function refreshInbox() {
    const number = $('#sms-from').value.trim();
    if (!number) return;
    const resp = await fetch(`${base}inbox?number=${encodeURIComponent(number)}`, {credentials: 'same-origin'});
    if (!resp.ok) return;
    const data = await resp.json();
    // Rebuilt only when something changed: a list replaced every poll would swallow a click on "Answer".
    const seen = JSON.stringify([number, data.messages]);
    if (seen === inboxSeen) return;
    inboxSeen = seen;
    const list = $('#sms-inbox');
    list.replaceChildren();
    if (!data.messages.length) item(list, 'muted', t('sms_none'));
    data.messages.forEach((m) => {
      const when = new Date(m.at).toLocaleTimeString();
      const li = item(list, `sms-in ${m.channel}`, m.text, `${when} · ${t(m.channel === 'call' ? 'inbox_call' : 'inbox_sms')} `);
      if (m.channel === 'call') answerControl(li, m);
    });
  }

  function watchInbox() {
    if (inboxTimer) clearInterval(inboxTimer);
    inboxTimer = $('#sms-from').value.trim() ? hotline.poll(refreshInbox, 3000) : null;
  }
  let typing = null;
  $('#sms-from').addEventListener('change', watchInbox);
  $('#sms-from').addEventListener('input', () => { clearTimeout(typing); typing = setTimeout(watchInbox, 400); });

  $('#sms-send').addEventListener('click', async () => {
    const error = $('#sms-error');
    error.hidden = true;
    $('#sms-send').disabled = true;
    const sent = $('#sms-body').value;  // what was sent, even if the box is edited while it goes
    try {
      const resp = await hotline.post(`${base}sms`, {from: $('#sms-from').value, line: $('#line').value,
                                                    body: sent});
      const data = await resp.json().catch(() => ({error: resp.statusText}));
      if (!resp.ok) {
        error.textContent = data.error || resp.statusText;
        error.hidden = false;
        return;
      }
      const list = $('#sms-replies');
      data.replies.forEach((text) => item(list, 'sms-reply', text, `${sent} → `));
      if ($('#sms-body').value === sent) $('#sms-body').value = '';
      watchInbox();
    } finally {
      $('#sms-send').disabled = false;
    }
  });

  render();
  watchInbox();
})();
