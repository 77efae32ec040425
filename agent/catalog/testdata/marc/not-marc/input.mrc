barcode,title
123,Hobbit
