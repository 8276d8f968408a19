// The invite page's copy button: it copies the new link to the clipboard
// and says so. Without scripts the link stays in its field, selected.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("copy");
  var link = document.getElementById("link");
  if (!button || !link) {
    return;
  }
  link.select();
  button.hidden = false;
  button.addEventListener("click", function () {
    link.select();
    var done = function () {
      button.textContent = button.dataset.done;
    };
    if (navigator.clipboard) {
      navigator.clipboard.writeText(link.value).then(done, function () {
        document.execCommand("copy");
        done();
      });
    } else {
      document.execCommand("copy");
      done();
    }
  });
});
