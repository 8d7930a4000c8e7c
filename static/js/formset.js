// Add and remove rows of a Django formset in place. Without JavaScript the page still works:
// the DELETE checkboxes stay visible and the server shows one empty row.
document.addEventListener("click", (event) => {
  const add = event.target.closest("[data-formset-add]");
  if (add) {
    const prefix = add.dataset.formsetAdd;
    const total = document.getElementById(`id_${prefix}-TOTAL_FORMS`);
    const template = document.getElementById(`${prefix}-empty`);
    const index = Number(total.value);
    const html = template.innerHTML.replaceAll("__prefix__", index);
    document.getElementById(`${prefix}-rows`).insertAdjacentHTML("beforeend", html);
    total.value = index + 1;
    const rows = document.getElementById(`${prefix}-rows`);
    if (window.htmx) window.htmx.process(rows.lastElementChild);
    rows.lastElementChild.querySelector("input, select")?.focus();
    return;
  }
  const remove = event.target.closest("[data-formset-remove]");
  if (remove) {
    const row = remove.closest("[data-formset-row]");
    const checkbox = row.querySelector('input[name$="-DELETE"]');
    if (checkbox) {
      checkbox.checked = true;
      row.hidden = true;
    }
  }
});
