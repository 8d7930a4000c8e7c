// The app's only script of its own (the Content-Security-Policy allows no inline script):
// marks that JavaScript runs, submits the language choice, opens the print dialog.
document.documentElement.classList.add("js");
document.addEventListener("change", function (event) {
  if (event.target.matches("[data-autosubmit]")) event.target.form.submit();
});
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
