// Add and remove rows of a Django formset in place. Without JavaScript the page still works:
// the DELETE checkboxes stay visible and the server shows one empty row.
//
// Removing a saved row marks it (DELETE ticked, fields dimmed, a reason asked for, undo
// offered) instead of hiding it, so a row marked for removal is never invisible when the page
// comes back with an error. A new, unsaved row is simply taken away.
function markRemoved(row, removed) {
  const checkbox = row.querySelector('input[name$="-DELETE"]');
  if (checkbox) checkbox.checked = removed;
  row.classList.toggle("removing", removed);
}

document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll('[data-formset-row] input[name$="-DELETE"]:checked').forEach((box) => {
    markRemoved(box.closest("[data-formset-row]"), true);
  });
});

document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-formset-add]");
  if (add) {
    const prefix = add.dataset.formsetAdd;
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const template = document.getElementById(`${prefix}-empty`);
    const index = Number(total.value);
    const rows = document.getElementById(`${prefix}-rows`);
    rows.insertAdjacentHTML("beforeend", template.innerHTML.replaceAll("__prefix__", index));
    total.value = index + 1;
    if (window.htmx) window.htmx.process(rows.lastElementChild);
    rows.lastElementChild.querySelector("input, select")?.focus();
    return;
  }
  const remove = event.target.closest("[data-formset-remove]");
  if (remove) {
    const row = remove.closest("[data-formset-row]");
    const saved = row.querySelector('input[name$="-id"]')?.value;
    markRemoved(row, true);
    if (!saved) row.hidden = true;  // nothing stored to keep a reason for
    else row.querySelector(".leave-reason select")?.focus();
    return;
  }
  const undo = event.target.closest("[data-formset-undo]");
  if (undo) markRemoved(undo.closest("[data-formset-row]"), false);
});
