// Behaviour that used to sit in inline handlers (refused by the Content-Security-Policy, no 'unsafe-inline').
//   data-confirm="Question ?"  on a button or link: asks before the click goes on (the form is not sent on "Annuler").
//   data-select-on-click       on an input: selects its whole value on click (the API token, to copy it).
document.addEventListener("click", (event) => {
  const asking = event.target.closest("[data-confirm]");
  if (asking && !window.confirm(asking.dataset.confirm)) {
    event.preventDefault();
    event.stopImmediatePropagation();
    return;
  }
  const selecting = event.target.closest("[data-select-on-click]");
  if (selecting) {
    selecting.select();
  }
});
